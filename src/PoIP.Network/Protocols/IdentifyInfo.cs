using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Internal;

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

    public static byte[] Encode(Ed25519PublicKey key, string protocolVersion, string agentVersion, IEnumerable<string> protocols, IEnumerable<Multiaddr> listen, Multiaddr? observed)
    {
        var w = new ProtoWriter();
        w.WriteString(5, protocolVersion);
        w.WriteString(6, agentVersion);
        w.WriteBytes(1, key.ToProtobuf());
        foreach (var a in listen)
        {
            w.WriteBytes(2, a.ToBytes());
        }

        if (observed is not null)
        {
            w.WriteBytes(4, observed.ToBytes());
        }

        foreach (var p in protocols)
        {
            w.WriteString(3, p);
        }

        return w.ToArray();
    }

    /// <exception cref="PoIPDecodeException">Malformed or oversized, or the key does not match <paramref name="expectedPeer"/>.</exception>
    public static IdentifyInfo Decode(ReadOnlySpan<byte> bytes, PeerId expectedPeer)
    {
        if (bytes.Length > MaxMessageLength)
        {
            throw Errors.Decode("Identify", DecodeErrorKind.Oversize, "message too large");
        }

        var r = new ProtoReader(bytes, "Identify");
        string pv = string.Empty, av = string.Empty;
        Ed25519PublicKey? key = null;
        var protocols = new List<string>();
        var listen = new List<Multiaddr>();
        Multiaddr? observed = null;
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    if (!Ed25519PublicKey.TryReadProtobuf(r.ReadBytes(1024), out var k))
                    {
                        throw Errors.Decode("Identify", DecodeErrorKind.InvalidField, "public key is not an Ed25519 key");
                    }

                    key = k;
                    break;
                case (2, 2):
                    var la = r.ReadBytes(Multiaddr.MaxBinaryLength);
                    if (listen.Count < MaxAddresses && Multiaddr.TryFromBytes(la, out var ma))
                    {
                        listen.Add(ma!);
                    }

                    break;
                case (3, 2):
                    if (protocols.Count >= MaxProtocols)
                    {
                        throw Errors.Decode("Identify", DecodeErrorKind.Oversize, "too many protocols");
                    }

                    protocols.Add(r.ReadString(Multistream.MultistreamSelect.MaxProtocolLength));
                    break;
                case (4, 2):
                    if (Multiaddr.TryFromBytes(r.ReadBytes(Multiaddr.MaxBinaryLength), out var oa))
                    {
                        observed = oa;
                    }

                    break;
                case (5, 2):
                    pv = r.ReadString(256);
                    break;
                case (6, 2):
                    av = r.ReadString(256);
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        if (key is null)
        {
            throw Errors.Decode("Identify", DecodeErrorKind.InvalidField, "no public key");
        }

        if (key.Value.ToPeerId() != expectedPeer)
        {
            throw Errors.Decode("Identify", DecodeErrorKind.InvalidField, "public key does not match the connection's peer id");
        }

        return new IdentifyInfo(expectedPeer, key.Value, pv, av, protocols, listen, observed);
    }
}
