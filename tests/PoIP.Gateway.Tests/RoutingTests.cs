using Microsoft.Extensions.Time.Testing;
using PoIP.Hosting.Client;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Gateway.Tests;

/// <summary>
/// Competition as the load balancer, on a real 5-node network (node-1 slow, node-5 cheats, three honest)
/// with every answer audited. The slow node is slow on the client's fake clock (its engine advances the
/// clock before its first token), so the outcome is decided by behaviour, not by this machine's speed.
/// </summary>
public sealed class RoutingTests
{
    private const int Requests = 25;

    [Fact]
    public async Task Competition_SlowNodeAndCheater_SlowNodeGetsLessThanUnderRoundRobinCheaterNoMore()
    {
        var roundRobin = await SharesAsync(NodeSelectionPolicy.RoundRobin);
        var competition = await SharesAsync(NodeSelectionPolicy.Competition);

        string seen = $"round robin {Show(roundRobin)}; competition {Show(competition)}";
        const string Slow = "node-1", Cheater = "node-5 (cheats)";

        Assert.Equal(Requests, roundRobin.Values.Sum());
        Assert.Equal(Requests, competition.Values.Sum());
        Assert.True(roundRobin.GetValueOrDefault(Slow) >= 4, seen);
        Assert.True(competition.GetValueOrDefault(Slow) < roundRobin.GetValueOrDefault(Slow), seen);
        Assert.True(competition.GetValueOrDefault(Slow) <= 2, seen);
        Assert.True(roundRobin.GetValueOrDefault(Cheater) >= 2, seen); // round robin asks it again after it was caught, until slashed out of eligibility
        Assert.Equal(1, competition.GetValueOrDefault(Cheater)); // explored once, caught, then routed around while still staked
    }

    private static string Show(Dictionary<string, int> shares) => string.Join(", ", shares.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value}"));

    /// <summary>Requests answered per node name.</summary>
    private static async Task<Dictionary<string, int>> SharesAsync(NodeSelectionPolicy policy)
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        string data = Directory.CreateTempSubdirectory("poip-routing-").FullName;
        try
        {
            await using var network = await LocalNetwork.StartAsync(new LocalNetworkOptions
            {
                ModelPath = GatewayFixture.Stories,
                DataDirectory = data,
                Nodes = 5,
                Cheat = CheatKind.AlterOutput,
                AuditProbability = 1.0,
                MaxTokens = 6,
                Selection = policy,
                SelectionSeed = 17,
                ClientTimeProvider = clock,
                WrapEngine = (i, engine) => i == 0 ? new SlowStartEngine(engine, _ =>
                {
                    clock.Advance(TimeSpan.FromMilliseconds(200)); // 200 ms to the first token, as the client sees it
                    return Task.CompletedTask;
                }) : engine,
            });
            var shares = new Dictionary<string, int>();
            for (int i = 0; i < Requests; i++)
            {
                var report = await network.AskAsync("Once upon a time", (ulong)i); // waits for each audit, so verdicts count before the next choice
                shares[report.Node] = shares.GetValueOrDefault(report.Node) + 1;
            }

            return shares;
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
