using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Reputation;
using PoIP.Hosting.Client;
using PoIP.Network;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.Tests.Client;

/// <summary>The competition's memory of a node's speed ages: a node measured slow once is tried again.</summary>
public sealed class NodeChooserTests
{
    /// <summary>
    /// Regression: the power of two choices never picks the worst of three nodes, and a node's time to first token was
    /// only ever updated by requests sent to it, so a node measured slow once (its first answers, during the warm-up
    /// burst) served 19 and 26 of ~5,200 answers in two 10-minute soaks while the other two were saturated.
    /// </summary>
    [Fact]
    public async Task ChooseAsync_NodeWithoutRequestsForReexploreAfter_GetsOneAndAFreshMeasureReplacesItsOldOne()
    {
        var time = new FakeTimeProvider();
        var key = Ed25519KeyPair.Generate();
        await using var host = Libp2pHost.Create(new Libp2pHostOptions { Key = key, IdentifyOnConnect = false });
        var options = new PoIPClientOptions { Key = key, Host = host, Stakes = StakeCacheTests.CountingStakes.Create(), TimeProvider = time, ReexploreAfter = TimeSpan.FromSeconds(30), SelectionSeed = 7 };
        var chooser = new NodeChooser(options, new ReputationBook());
        var nodes = Enumerable.Range(0, 3).Select(_ => new NodeListing(Multiaddr.Parse("/ip4/127.0.0.1/tcp/1").WithPeerId(Ed25519KeyPair.Generate().PeerId))).ToList();
        PeerId fast1 = nodes[0].Address.PeerId!.Value, fast2 = nodes[1].Address.PeerId!.Value, slow = nodes[2].Address.PeerId!.Value;
        foreach (var node in nodes)
        {
            chooser.Attempted(node.Address.PeerId!.Value);
        }

        chooser.ObserveLatency(fast1, TimeSpan.FromMilliseconds(10));
        chooser.ObserveLatency(fast2, TimeSpan.FromMilliseconds(12));
        chooser.ObserveLatency(slow, TimeSpan.FromSeconds(5)); // measured cold

        var toSlow = new List<int>();
        for (int second = 1; second <= 45; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            var chosen = await ChooseAsync(chooser, nodes, second);
            chooser.Attempted(chosen);
            if (chosen == slow)
            {
                toSlow.Add(second);
            }
        }

        Assert.Equal([30], toSlow); // only once it had nothing for 30 s, and once
        chooser.ObserveLatency(slow, TimeSpan.FromMilliseconds(8)); // now the fastest
        Assert.Equal(TimeSpan.FromMilliseconds(8), chooser.Latencies[slow]); // replaces the 5 s from long ago
        chooser.ObserveLatency(slow, TimeSpan.FromMilliseconds(18));
        Assert.InRange(chooser.Latencies[slow].TotalMilliseconds, 10.999, 11.001); // a recent one is blended (0.7 × 8 + 0.3 × 18)

        int picked = 0;
        for (int i = 0; i < 30; i++)
        {
            picked += await ChooseAsync(chooser, nodes, i) == slow ? 1 : 0;
        }

        Assert.True(picked > 0, "the node measured fast again is chosen again");
    }

    [Fact]
    public async Task ChooseAsync_IdleNodeWithAProvenFraud_NotReexplored()
    {
        var time = new FakeTimeProvider();
        var key = Ed25519KeyPair.Generate();
        await using var host = Libp2pHost.Create(new Libp2pHostOptions { Key = key, IdentifyOnConnect = false });
        var reputation = new ReputationBook();
        var options = new PoIPClientOptions { Key = key, Host = host, Stakes = StakeCacheTests.CountingStakes.Create(), TimeProvider = time, ReexploreAfter = TimeSpan.FromSeconds(30), SelectionSeed = 7 };
        var chooser = new NodeChooser(options, reputation);
        var nodes = Enumerable.Range(0, 3).Select(_ => new NodeListing(Multiaddr.Parse("/ip4/127.0.0.1/tcp/1").WithPeerId(Ed25519KeyPair.Generate().PeerId))).ToList();
        var cheater = nodes[2].Address.PeerId!.Value;
        foreach (var node in nodes)
        {
            chooser.Attempted(node.Address.PeerId!.Value);
            chooser.ObserveLatency(node.Address.PeerId!.Value, TimeSpan.FromMilliseconds(10));
        }

        reputation.Record(cheater, ReputationEvent.FraudProven);
        for (int second = 1; second <= 120; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            var chosen = await ChooseAsync(chooser, nodes, second);
            chooser.Attempted(chosen);
            Assert.NotEqual(cheater, chosen);
        }
    }

    [Fact]
    public async Task ChooseAsync_ReexploreAfterZero_WorstOfThreeNeverChosen()
    {
        var time = new FakeTimeProvider();
        var key = Ed25519KeyPair.Generate();
        await using var host = Libp2pHost.Create(new Libp2pHostOptions { Key = key, IdentifyOnConnect = false });
        var options = new PoIPClientOptions { Key = key, Host = host, Stakes = StakeCacheTests.CountingStakes.Create(), TimeProvider = time, ReexploreAfter = TimeSpan.Zero, SelectionSeed = 7 };
        var chooser = new NodeChooser(options, new ReputationBook());
        var nodes = Enumerable.Range(0, 3).Select(_ => new NodeListing(Multiaddr.Parse("/ip4/127.0.0.1/tcp/1").WithPeerId(Ed25519KeyPair.Generate().PeerId))).ToList();
        var latencies = new[] { 10, 12, 5_000 };
        for (int i = 0; i < 3; i++)
        {
            chooser.Attempted(nodes[i].Address.PeerId!.Value);
            chooser.ObserveLatency(nodes[i].Address.PeerId!.Value, TimeSpan.FromMilliseconds(latencies[i]));
        }

        for (int second = 1; second <= 120; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            var chosen = await ChooseAsync(chooser, nodes, second);
            chooser.Attempted(chosen);
            Assert.NotEqual(nodes[2].Address.PeerId!.Value, chosen);
        }
    }

    private static async Task<PeerId> ChooseAsync(NodeChooser chooser, IReadOnlyList<NodeListing> nodes, int start) =>
        (await chooser.ChooseAsync(nodes, start, new HashSet<PeerId>(), TokenAmount.FromTokens(1), 16, CancellationToken.None))!.PeerId!.Value;
}
