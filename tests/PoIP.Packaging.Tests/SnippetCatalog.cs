using System.Text;
using System.Text.RegularExpressions;
using PoIP.TestUtils;

namespace PoIP.Packaging.Tests;

/// <summary>
/// The package READMEs' code blocks and the compiled sources they come from. A README block follows a
/// line <c>&lt;!-- snippet: NAME --&gt;</c>; its source is the text between <c>// begin-snippet: NAME</c>
/// and <c>// end-snippet</c> in a .cs file of this project (Snippets/, Consumer/), dedented.
/// </summary>
internal static partial class SnippetCatalog
{
    public static string ProjectDirectory { get; } = Path.Combine(RepositoryPaths.Root, "tests", "PoIP.Packaging.Tests");

    /// <summary>Every package README (src/*/README.md and the console tool's), then the docs pages (docs/*.md).</summary>
    public static IReadOnlyList<string> Readmes =>
    [
        .. Directory.GetDirectories(Path.Combine(RepositoryPaths.Root, "src")).Order(StringComparer.Ordinal).Select(d => Path.Combine(d, "README.md")),
        Path.Combine(RepositoryPaths.Root, "samples", "PoIP.Node", "README.md"),
        .. Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "docs"), "*.md").Order(StringComparer.Ordinal),
    ];

    public static IReadOnlyDictionary<string, string> Sources()
    {
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(ProjectDirectory, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains("/bin/", StringComparison.Ordinal) || file.Contains("/obj/", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (Match match in SourceRegion().Matches(File.ReadAllText(file).ReplaceLineEndings("\n")))
            {
                sources.Add(match.Groups["name"].Value, Dedent(match.Groups["body"].Value));
            }
        }

        return sources;
    }

    /// <summary>The (name, code) blocks of a README.</summary>
    public static IReadOnlyList<(string Name, string Code)> Blocks(string readme) =>
        [.. ReadmeBlock().Matches(File.ReadAllText(readme).ReplaceLineEndings("\n")).Select(m => (m.Groups["name"].Value, m.Groups["body"].Value))];

    /// <summary>Rewrites every block of a README from its source (POIP_UPDATE_SNIPPETS=1); returns whether it changed.</summary>
    public static bool Update(string readme, IReadOnlyDictionary<string, string> sources)
    {
        string text = File.ReadAllText(readme).ReplaceLineEndings("\n");
        string updated = ReadmeBlock().Replace(text, m => sources.TryGetValue(m.Groups["name"].Value, out string? code)
            ? $"<!-- snippet: {m.Groups["name"].Value} -->\n```csharp\n{code}```"
            : m.Value);
        if (updated == text)
        {
            return false;
        }

        File.WriteAllText(readme, updated);
        return true;
    }

    private static string Dedent(string body)
    {
        string[] lines = body.Split('\n');
        int indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart(' ').Length).DefaultIfEmpty(0).Min();
        var result = new StringBuilder();
        foreach (string line in lines.Take(lines.Length - 1))
        {
            result.Append(line.Length >= indent ? line[indent..] : line.TrimStart(' ')).Append('\n');
        }

        return result.ToString();
    }

    [GeneratedRegex(@"^[ ]*// begin-snippet: (?<name>[a-z0-9-]+)\n(?<body>(?:.*\n)*?)[ ]*// end-snippet", RegexOptions.Multiline)]
    private static partial Regex SourceRegion();

    [GeneratedRegex(@"<!-- snippet: (?<name>[a-z0-9-]+) -->\n```csharp\n(?<body>(?:.*\n)*?)```", RegexOptions.Multiline)]
    private static partial Regex ReadmeBlock();
}
