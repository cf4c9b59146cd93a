using PoIP.Core.Identity;
using PoIP.Network.Addressing;

namespace PoIP.Network.Kademlia;

/// <summary>A peer and the addresses it is reachable at.</summary>
/// <param name="Peer">Its id.</param>
/// <param name="Addresses">Its addresses (without <c>/p2p/</c>).</param>
public sealed record DhtPeerInfo(PeerId Peer, IReadOnlyList<Multiaddr> Addresses);
