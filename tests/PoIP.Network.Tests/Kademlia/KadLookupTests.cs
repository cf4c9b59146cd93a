using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using PoIP.Network.Kademlia.Wire;
using Xunit;

namespace PoIP.Network.Tests.Kademlia;

public class KadLookupTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static async Task<int> SuccessesAsync(InMemoryKadNetwork net, List<KadNode> honest, int lookups, Random rng)
    {
        int found = 0;
        for (int i = 0; i < lookups; i++)
        {
            var source = honest[rng.Next(honest.Count)];
            var target = honest[rng.Next(honest.Count)];
            if (source == target)
            {
                i--;
                continue;
            }

            var r = await source.FindClosestAsync(target.Self.ToArray(), followUp: false, Ct);
            if (r.Closest.Count > 0 && r.Closest[0].Peer == target.Self)
            {
                found++;
            }
        }

        return found;
    }

    /// <summary>
    /// 20 % of 400 peers answer every FIND_NODE only with the adversaries closest to the target. Over three
    /// disjoint paths nearly every lookup still finds its target; one path (plain Kademlia) loses clearly more.
    /// </summary>
    [Fact]
    public async Task FindClosest_TwentyPercentAdversaries_DisjointPathsStillFindTheTarget()
    {
        var rng = new Random(42);
        var net = new InMemoryKadNetwork();
        var nodes = Enumerable.Range(0, 400).Select(_ => net.Add(KadNetworkTests.Options(), TimeProvider.System)).ToList();
        net.FillConvergedTables(nodes, rng, TimeProvider.System.GetTimestamp());
        var adversaries = nodes.Where((_, i) => i % 5 == 0).Select(n => n.Self).ToHashSet();
        var points = adversaries.Select(a => (Peer: a, Id: KadId.FromKey(a.Bytes))).ToArray();
        net.Interceptor = (to, _, request) =>
        {
            if (!adversaries.Contains(to))
            {
                return null;
            }

            var t = KadId.FromKey(request.Key.Span);
            var reply = new Message { Type = request.Type, Key = request.Key };
            foreach (var a in points.OrderBy(a => a.Id.Xor(t)).Take(20))
            {
                reply.CloserPeers.Add(KadCodec.ToWire(a.Peer, [Multiaddr.Parse("/ip4/10.9.9.9/tcp/1")], connected: false));
            }

            return reply;
        };
        var honest = nodes.Where(n => !adversaries.Contains(n.Self)).ToList();

        int disjoint = await SuccessesAsync(net, honest, 100, rng);
        foreach (var n in nodes)
        {
            n.Options.DisjointPaths = 1;
        }

        int single = await SuccessesAsync(net, honest, 100, rng);
        Assert.True(disjoint >= 97, $"d = 3 found {disjoint} of 100 targets");
        Assert.True(disjoint > single, $"d = 3 found {disjoint}, d = 1 found {single}");
    }
}
