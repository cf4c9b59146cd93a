using FsCheck.Fluent;
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

    [FsCheck.Xunit.Property(MaxTest = 60)]
    public FsCheck.Property Nearest_DeepTableAnyTargetCountAndExclusion_EqualsBruteForceXorOrder(int seed, byte count, byte near, bool excludeOne, bool failSome)
    {
        // Distinct /16 groups, so the table fills every bucket it can (thousands of peers, ~14 buckets deep); targets
        // near the local id (sharing `near` bits with it) reach the deep buckets and the class above bucket cpl.
        var rng = new Random(seed);
        var local = KadId.FromKey(BitConverter.GetBytes(seed));
        var table = new RoutingTable(local, 20, 2, 3);
        var live = new List<KadPeer>();
        for (int i = 0; i < 4000; i++)
        {
            var p = new KadPeer(InMemoryKadNetwork.RandomPeerId(), [Multiaddr.Parse($"/ip4/{1 + (i >> 8)}.{i & 255}.0.1/tcp/1")]);
            if (table.TryAdd(p) == RoutingAddResult.Added)
            {
                live.Add(p);
            }
        }

        if (failSome)
        {
            foreach (var p in live.Where(_ => rng.Next(5) == 0).ToList())
            {
                table.MarkFailed(p.Peer, evictAfter: 2); // a suspect: kept in the table, handed to nobody
                live.Remove(p);
            }
        }

        int bits = near % 40;
        var target = Flip(local, bits, rng);
        var excluded = excludeOne && live.Count > 0 ? live[rng.Next(live.Count)].Peer : (Core.Identity.PeerId?)null;
        int take = 1 + (count % 30);
        var expected = live.Where(p => excluded is not { } x || p.Peer != x).OrderBy(p => p.Id.Xor(target)).Take(take).Select(p => p.Peer).ToList();
        var got = table.Nearest(target, take, excluded).Select(p => p.Peer).ToList();
        return expected.SequenceEqual(got).ToProperty().Label($"bits {bits}, take {take}, table {table.Count}");
    }

    /// <summary>A point sharing exactly <paramref name="bits"/> leading bits with <paramref name="id"/>, random after.</summary>
    private static KadId Flip(KadId id, int bits, Random rng)
    {
        Span<byte> b = stackalloc byte[32];
        rng.NextBytes(b);
        var r = KadId.FromHash(b);
        ulong[] w = [id.A, id.B, id.C, id.D];
        ulong[] x = [r.A, r.B, r.C, r.D];
        for (int i = 0; i < 4; i++)
        {
            int keep = Math.Clamp(bits - (i * 64), 0, 64);
            ulong mask = keep == 0 ? 0 : keep == 64 ? ulong.MaxValue : ~(ulong.MaxValue >> keep);
            w[i] = (w[i] & mask) | (x[i] & ~mask);
        }

        ulong[] own = [id.A, id.B, id.C, id.D];
        ulong bit = 1UL << (63 - (bits % 64));
        w[bits / 64] = (w[bits / 64] & ~bit) | (~own[bits / 64] & bit); // bit `bits` differs from the id's
        return new KadId(w[0], w[1], w[2], w[3]);
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
