using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using Xunit;

namespace PoIP.Network.Tests.Kademlia;

public class RoutingTableTests
{
    private static KadPeer Peer(string address = "/ip4/10.0.0.1/tcp/1") => new(InMemoryKadNetwork.RandomPeerId(), [Multiaddr.Parse(address)]);

    [Fact]
    public void Nearest_ManyPeers_EqualsBruteForceXorOrder()
    {
        var local = KadId.FromKey([1, 2, 3]);
        var table = new RoutingTable(local, 20, 2, 3);
        var added = new List<KadPeer>();
        for (int i = 0; i < 3000; i++)
        {
            var p = Peer();
            if (table.TryAdd(p) == RoutingAddResult.Added)
            {
                added.Add(p);
            }
        }

        for (int t = 0; t < 20; t++)
        {
            var target = KadId.FromKey(BitConverter.GetBytes(t));
            var expected = added.OrderBy(p => p.Id.Xor(target)).Take(20).Select(p => p.Peer).ToList();
            Assert.Equal(expected, table.Nearest(target, 20).Select(p => p.Peer).ToList());
        }
    }

    [Fact]
    public void TryAdd_FullBucket_KeepsLivePeersAndReplacesAFailedOne()
    {
        var local = KadId.FromKey([9]);
        var table = new RoutingTable(local, 2, 2, 3);
        var bucket0 = new List<KadPeer>();
        while (bucket0.Count < 3)
        {
            var p = Peer();
            if (local.CommonPrefixLength(p.Id) == 0)
            {
                bucket0.Add(p);
            }
        }

        Assert.Equal(RoutingAddResult.Added, table.TryAdd(bucket0[0]));
        Assert.Equal(RoutingAddResult.Added, table.TryAdd(bucket0[1]));
        Assert.Equal(RoutingAddResult.BucketFull, table.TryAdd(bucket0[2]));
        table.MarkFailed(bucket0[0].Peer, evictAfter: 5);
        Assert.Equal(RoutingAddResult.Added, table.TryAdd(bucket0[2]));
        Assert.False(table.Contains(bucket0[0].Peer));
    }

    [Fact]
    public void TryAdd_ManyPeersOfOnePublicSlash16_AtMostThreeInTable()
    {
        var table = new RoutingTable(KadId.FromKey([7]), 20, 2, 3);
        int added = 0;
        for (int i = 0; i < 50; i++)
        {
            if (table.TryAdd(Peer($"/ip4/203.0.{i}.1/tcp/1")) == RoutingAddResult.Added)
            {
                added++;
            }
        }

        Assert.Equal(3, added);
        Assert.Equal(RoutingAddResult.Added, table.TryAdd(Peer("/ip4/198.51.0.1/tcp/1")));
    }

    [Fact]
    public void TryAdd_OnePublicSlash16InOneBucket_AtMostTwo()
    {
        var local = KadId.FromKey([5]);
        var table = new RoutingTable(local, 20, 2, 3);
        int added = 0;
        for (int i = 0; added + 1 < 10 && i < 10_000; i++)
        {
            var p = Peer($"/ip4/203.0.{i % 250}.1/tcp/1");
            if (local.CommonPrefixLength(p.Id) == 0)
            {
                var r = table.TryAdd(p);
                if (r == RoutingAddResult.Added)
                {
                    added++;
                }
                else
                {
                    Assert.Equal(RoutingAddResult.GroupLimitInBucket, r);
                    break;
                }
            }
        }

        Assert.Equal(2, added);
    }

    [Fact]
    public void TryAdd_LoopbackPeers_NoGroupLimit()
    {
        var table = new RoutingTable(KadId.FromKey([3]), 20, 2, 3);
        int added = Enumerable.Range(0, 30).Count(_ => table.TryAdd(Peer("/ip4/127.0.0.1/tcp/1")) == RoutingAddResult.Added);
        Assert.True(added > 3, $"only {added} loopback peers admitted");
    }
}
