using PoIP.Core.Identity;
using PoIP.Network.Addressing;

namespace PoIP.Network.Kademlia;

/// <summary>A DHT peer: its id, its key-space point and the addresses it was last heard at (without <c>/p2p/</c>).</summary>
internal sealed class KadPeer
{
    public KadPeer(PeerId peer, IReadOnlyList<Multiaddr> addresses)
    {
        Peer = peer;
        Id = KadIdCache.Of(peer);
        Addresses = addresses;
    }

    public PeerId Peer { get; }

    public KadId Id { get; }

    public IReadOnlyList<Multiaddr> Addresses { get; }

    public DhtPeerInfo ToInfo() => new(Peer, Addresses);

    public override string ToString() => Peer.ToString();
}
