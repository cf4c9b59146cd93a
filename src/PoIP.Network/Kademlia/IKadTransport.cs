using PoIP.Core.Identity;
using PoIP.Network.Kademlia.Wire;

namespace PoIP.Network.Kademlia;

/// <summary>
/// How <see cref="KadNode"/> reaches other peers: over libp2p streams (<see cref="Libp2pKadTransport"/>) or an
/// in-memory network (tests and the <c>dht</c> simulation benchmark). Inbound requests reach
/// <see cref="KadNode.HandleRequest"/> from the transport with the authenticated sender.
/// </summary>
internal interface IKadTransport
{
    /// <summary>Sends a request; returns the reply, or null when <paramref name="expectReply"/> is false.</summary>
    /// <exception cref="Exception">Any failure (unreachable, refused, timed out, malformed reply).</exception>
    Task<Message?> SendAsync(KadPeer peer, Message request, bool expectReply, CancellationToken cancellationToken);

    /// <summary>Closes every connection with a misbehaving peer.</summary>
    void Disconnect(PeerId peer);

    /// <summary>True while a connection with the peer is open.</summary>
    bool IsConnected(PeerId peer);
}

/// <summary>What the handler made of one inbound request.</summary>
/// <param name="Reply">The reply to write (null: none, as for ADD_PROVIDER, or refused).</param>
/// <param name="Refusal">Why the request was refused (null when served); the stream is reset.</param>
/// <param name="Disconnect">True when the peer misbehaved enough to be disconnected.</param>
internal readonly record struct KadHandleResult(Message? Reply, string? Refusal, bool Disconnect)
{
    public static KadHandleResult Served(Message? reply) => new(reply, null, false);
}
