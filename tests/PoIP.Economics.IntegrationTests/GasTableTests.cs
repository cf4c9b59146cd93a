using System.Globalization;
using System.Text.RegularExpressions;
using PoIP.TestUtils;

namespace PoIP.Economics.IntegrationTests;

/// <summary>The gas table in docs/economics.md stays true: every operation within 5 % of the figure there.</summary>
public sealed partial class GasTableTests(AnvilChain chain) : IClassFixture<AnvilChain>
{
    [Fact]
    public async Task GasPerOperation_MatchesTheDocumentedTableWithin5Percent()
    {
        var measured = await GasProfile.MeasureAsync(chain);
        string doc = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "docs", "economics.md"));
        var documented = TableRow().Matches(doc).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value.Replace(",", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture));
        string all = string.Join(", ", measured.Select(p => $"{p.Key} {p.Value}"));

        Assert.All(GasProfile.Operations, operation =>
        {
            Assert.True(documented.TryGetValue(operation, out long expected), $"docs/economics.md has no gas row for `{operation}` (measured: {all})");
            double drift = Math.Abs(measured[operation] - expected) / (double)expected;
            Assert.True(drift <= 0.05, $"`{operation}` used {measured[operation]} gas, {drift:P1} from the documented {expected} (measured: {all})");
        });
    }

    [GeneratedRegex(@"^\| `([a-z_0-9]+)` \| ([0-9,]+) \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
