using System.Text;
using Microsoft.Extensions.Time.Testing;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using Xunit;

namespace PoIP.Network.Tests.Kademlia;

/// <summary>The upkeep that keeps tables and replicas right under churn: ping-and-evict at refresh, replication by holders.</summary>
public class KadUpkeepTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static FakeTimeProvider Clock() => new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task CheckPeers_PeersSilentForAPeriod_DeadEvictedLiveKept()
    {
        var time = Clock();
        var net = new InMemoryKadNetwork();
        var nodes = await KadNetworkTests.BuildAsync(net, 12, time);
        var gone = nodes.Skip(1).Where(n => nodes[0].Table.Contains(n.Self)).Take(3).ToList();
        Assert.Equal(3, gone.Count);
        foreach (var g in gone)
        {
            net.SetDown(g.Self, true);
        }

        // Seen within the grace period: nobody is pinged, nobody leaves.
        Assert.Equal(0, await nodes[0].CheckPeersAsync(TimeSpan.FromMinutes(10), Ct));
        Assert.All(gone, g => Assert.True(nodes[0].Table.Contains(g.Self)));

        time.Advance(TimeSpan.FromMinutes(11));
        int before = nodes[0].Table.Count;
        Assert.Equal(3, await nodes[0].CheckPeersAsync(TimeSpan.FromMinutes(10), Ct));
        Assert.All(gone, g => Assert.False(nodes[0].Table.Contains(g.Self)));
        Assert.Equal(before - 3, nodes[0].Table.Count);
    }

    [Fact]
    public async Task Replicate_HoldersLeft_OneHolderPutsTheValueOnTheCurrentClosest()
    {
        var time = Clock();
        var net = new InMemoryKadNetwork();
        var nodes = await KadNetworkTests.BuildAsync(net, 30, time, o => (o.BucketSize, o.Resiliency) = (5, 3));
        byte[] key = Encoding.ASCII.GetBytes("/test/replicate");
        var publisher = nodes[0];
        var put = await publisher.PutValueAsync(key, Encoding.ASCII.GetBytes("v1"), Ct);
        Assert.Equal(5, put.Confirmed);
        var holders = nodes.Skip(1).Where(n => n.Store.ValueCount > 0).ToList();
        Assert.Equal(5, holders.Count);

        // Two holders leave; the others have heard no put for an hour.
        net.SetDown(holders[0].Self, true);
        net.SetDown(holders[1].Self, true);
        var live = nodes.Where(n => n != holders[0] && n != holders[1]).ToList();
        time.Advance(TimeSpan.FromMinutes(61));
        int replicated = 0;
        foreach (var n in live)
        {
            replicated += await n.ReplicateAsync(Ct);
        }

        // The first holder to replicate reset the others' wait: one re-put, and the value is on 5 live peers again.
        Assert.Equal(1, replicated);
        Assert.Equal(0, await publisher.ReplicateAsync(Ct)); // its own value is the 22 h republish's job
        // (the publisher's own copy counts: it may itself be among the five closest live peers now)
        int copies = live.Count(n => n.Store.GetValue(key, time.GetUtcNow()) is not null);
        Assert.True(copies >= 5, $"{copies} live copies");
    }

    [Fact]
    public async Task Replicate_OriginatorGone_ValueStillExpires48HoursAfterItsLastPut()
    {
        var time = Clock();
        var net = new InMemoryKadNetwork();
        var nodes = await KadNetworkTests.BuildAsync(net, 15, time, o => (o.BucketSize, o.Resiliency) = (5, 3));
        byte[] key = Encoding.ASCII.GetBytes("/test/mortal");
        await nodes[0].PutValueAsync(key, Encoding.ASCII.GetBytes("v1"), Ct);
        net.SetDown(nodes[0].Self, true);
        var live = nodes.Skip(1).ToList();
        for (int hour = 1; hour <= 47; hour++)
        {
            time.Advance(TimeSpan.FromHours(1));
            foreach (var n in live)
            {
                await n.ReplicateAsync(Ct);
            }
        }

        Assert.Contains(live, n => n.Store.GetValue(key, time.GetUtcNow()) is not null);
        time.Advance(TimeSpan.FromHours(1));
        Assert.DoesNotContain(live, n => n.Store.GetValue(key, time.GetUtcNow()) is not null);
    }

    [Fact]
    public void RandomKeyInBucket_EachPrefixLength_KeyHashSharesExactlyThatManyBits()
    {
        var node = new InMemoryKadNetwork().Add(KadNetworkTests.Options(), TimeProvider.System);
        for (int cpl = 0; cpl <= 17; cpl++)
        {
            var keys = Enumerable.Range(0, 4).Select(_ => node.RandomKeyInBucket(cpl)).ToList();
            Assert.All(keys, k => Assert.Equal(cpl, node.Table.Local.CommonPrefixLength(KadId.FromKey(k))));
        }
    }
}
