using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using Xunit;

namespace PoIP.Network.Tests.Kademlia;

public class KadIdCacheTests
{
    [Fact]
    public void Of_MorePeersThanCapacityAskedTwice_AlwaysTheSha256Point()
    {
        var peers = Enumerable.Range(0, KadIdCache.Capacity + 5_000).Select(_ => InMemoryKadNetwork.RandomPeerId()).ToList();
        for (int pass = 0; pass < 2; pass++) // the second pass reads what the first cached (past capacity: after a clear)
        {
            foreach (var peer in peers)
            {
                Assert.Equal(KadId.FromKey(peer.Bytes), KadIdCache.Of(peer));
            }
        }

        // A peer id decoded again (another object, same bytes) maps to the same point.
        var copy = Core.Identity.PeerId.FromBytes(peers[^1].ToArray());
        Assert.Equal(KadId.FromKey(peers[^1].Bytes), new KadPeer(copy, []).Id);
    }
}
