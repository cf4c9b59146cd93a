using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using Google.Protobuf;
using PoIP.Network.Internal;
using PoIP.Network.Protocols.Wire;

namespace PoIP.Network.Protocols;

/// <summary>What a peer said about itself over <c>/ipfs/id/1.0.0</c> (its key checked against its peer id).</summary>
/// <param name="Peer">The peer id (equal to the connection's remote peer).</param>
/// <param name="PublicKey">The peer's identity key.</param>
/// <param name="ProtocolVersion">Protocol family, e.g. <c>ipfs/0.1.0</c>.</param>
/// <param name="AgentVersion">Implementation, e.g. <c>js-libp2p/3.3.11</c>.</param>
/// <param name="Protocols">Protocol ids the peer handles.</param>
/// <param name="ListenAddresses">Addresses the peer listens on (those this library can read).</param>
/// <param name="ObservedAddress">Our address as the peer sees it, if sent and readable.</param>
public sealed record IdentifyInfo(
    PeerId Peer,
    Ed25519PublicKey PublicKey,
    string ProtocolVersion,
    string AgentVersion,
    IReadOnlyList<string> Protocols,
    IReadOnlyList<Multiaddr> ListenAddresses,
    Multiaddr? ObservedAddress);

/// <summary>The identify message codec (protobuf, limited to <see cref="MaxMessageLength"/>).</summary>
internal static class IdentifyCodec
{
    public const string ProtocolId = "/ipfs/id/1.0.0";
    public const int MaxMessageLength = 8192;
    public const int MaxProtocols = 128;
    public const int MaxAddresses = 64;
    private const int MaxVersionLength = 256;

    public static byte[] Encode(Ed25519PublicKey key, string protocolVersion, string agentVersion, IEnumerable<string> protocols, IEnumerable<Multiaddr> listen, Multiaddr? observed)
    {
        var message = new Identify
        {
            ProtocolVersion = protocolVersion,
            AgentVersion = agentVersion,
            PublicKey = ByteString.CopyFrom(key.ToProtobuf()),
        };
        message.ListenAddrs.AddRange(listen.Select(a => ByteString.CopyFrom(a.ToBytes())));
        if (observed is not null)
        {
            message.ObservedAddr = ByteString.CopyFrom(observed.ToBytes());
        }

        message.Protocols.AddRange(protocols);
        return message.ToByteArray();
    }

    /// <exception cref="PoIPDecodeException">Malformed or oversized, or the key does not match <paramref name="expectedPeer"/>.</exception>
    public static IdentifyInfo Decode(ReadOnlySpan<byte> bytes, PeerId expectedPeer)
    {
        if (bytes.Length > MaxMessageLength)
        {
            throw Errors.Decode("Identify", DecodeErrorKind.Oversize, "message too large");
        }

        Identify message;
        try
        {
            message = Identify.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new PoIPDecodeException("Identify", DecodeErrorKind.Malformed, ex.Message, ex);
        }

        if (message.Protocols.Count > MaxProtocols)
        {
            throw Errors.Decode("Identify", DecodeErrorKind.Oversize, "too many protocols");
        }

        if (message.Protocols.Any(p => p.Length > Multistream.MultistreamSelect.MaxProtocolLength)
            || message.ProtocolVersion.Length > MaxVersionLength || message.AgentVersion.Length > MaxVersionLength)
        {
            throw Errors.Decode("Identify", DecodeErrorKind.Oversize, "a protocol id or version string is too long");
        }

        if (!message.HasPublicKey)
        {
            throw Errors.Decode("Identify", DecodeErrorKind.InvalidField, "no public key");
        }

        if (!Ed25519PublicKey.TryReadProtobuf(message.PublicKey.Span, out var key))
        {
            throw Errors.Decode("Identify", DecodeErrorKind.InvalidField, "public key is not an Ed25519 key");
        }

        if (key.ToPeerId() != expectedPeer)
        {
            throw Errors.Decode("Identify", DecodeErrorKind.InvalidField, "public key does not match the connection's peer id");
        }

        var listen = new List<Multiaddr>();
        foreach (var address in message.ListenAddrs)
        {
            if (listen.Count < MaxAddresses && address.Length <= Multiaddr.MaxBinaryLength && Multiaddr.TryFromBytes(address.Span, out var ma))
            {
                listen.Add(ma!);
            }
        }

        Multiaddr? observed = message.HasObservedAddr && message.ObservedAddr.Length <= Multiaddr.MaxBinaryLength && Multiaddr.TryFromBytes(message.ObservedAddr.Span, out var oa) ? oa : null;
        return new IdentifyInfo(expectedPeer, key, message.ProtocolVersion, message.AgentVersion, [.. message.Protocols], listen, observed);
    }
}
