using System.Text.Json;
using PoIP.TestUtils;

namespace PoIP.Hosting.Tests;

/// <summary>
/// <c>poip demo</c> tells the truth about the cheater: the plan's miss probability is printed and below
/// 1e-6 at the defaults, and a run that does not catch the cheater says so and exits 1 (regression: the
/// separate-process demo missed it in 2 of 4 runs at its defaults and still printed success).
/// </summary>
[Collection(SeparateProcesses.Name)]
public sealed class DemoHonestyTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(180);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Demo_CheaterNeverAudited_SaysNotCaughtAndExits1(bool separateProcesses)
    {
        string[] arguments = ["demo", "--json", "--nodes", "2", "--requests", "2", "--audit-p", "0", "--max-tokens", "8", "--model", HostingFixture.Stories];
        var (exit, stdout, stderr) = await PoipCli.RunAsync(Limit, separateProcesses ? [.. arguments, "--separate-processes"] : arguments);

        Assert.True(exit == 1, $"exit {exit}: {stdout} {stderr}");
        var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.False(summary.GetProperty("cheater_caught").GetBoolean());
        Assert.False(summary.GetProperty("ok").GetBoolean());
        Assert.Equal(1.0, summary.GetProperty("miss_probability").GetDouble()); // p = 0: the plan says it cannot catch it
        Assert.Contains("error: the cheating node node-2 (cheats) was NOT caught: none of its 1 answers was audited", stderr);
    }

    [Fact]
    public async Task Demo_Defaults_MissProbabilityBelowOneInAMillion_CheaterCaughtAndSlashed()
    {
        var (exit, stdout, stderr) = await PoipCli.RunAsync(Limit, "demo", "--json", "--max-tokens", "12", "--model", HostingFixture.Stories);

        Assert.True(exit == 0, $"exit {exit}: {stdout} {stderr}");
        var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(30, summary.GetProperty("requests").GetInt32()); // 3 nodes, round robin, p = 0.75: 10 cheating answers, 0.25^10 < 1e-6
        Assert.Equal(0.75, summary.GetProperty("audit_p").GetDouble());
        Assert.Equal(10, summary.GetProperty("cheater_guaranteed_answers").GetInt32());
        Assert.InRange(summary.GetProperty("miss_probability").GetDouble(), 0, 1e-6);
        Assert.True(summary.GetProperty("cheater_caught").GetBoolean());
        var cheater = Assert.Single(summary.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("cheats").GetBoolean());
        Assert.True(cheater.GetProperty("frauds").GetInt32() > 0);
        Assert.NotEqual("200", cheater.GetProperty("stake_after").GetString());
    }
}
