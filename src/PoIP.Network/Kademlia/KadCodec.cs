using Google.Protobuf;
using PoIP.Core.Encoding;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia.Wire;

namespace PoIP.Network.Kademlia;

/// <summary>
/// kad-dht messages on the wire: the protobuf <see cref="Message"/> behind an unsigned-varint length, and
/// the bounded conversion of its peer lists.
/// </summary>
internal static class KadCodec
{
    /// <summary>Closer or provider peers kept from one reply (go's limit); the rest are dropped.</summary>
    public const int MaxPeersPerReply = 2000;

    /// <summary>Addresses kept per peer entry.</summary>
    public const int MaxAddressesPerPeer = 16;

    private const string TypeName = "kad-dht message";

    /// <summary>The frame: varint length, then the message.</summary>
    public static byte[] EncodeFrame(Message message)
    {
        int size = message.CalculateSize();
        var frame = new byte[UnsignedVarint.MaxLength + size];
        int prefix = UnsignedVarint.Write(frame, (ulong)size);
        message.WriteTo(frame.AsSpan(prefix, size));
        return frame.AsSpan(0, prefix + size).ToArray();
    }

    /// <summary>Parses one message body of at most <paramref name="maxSize"/> bytes.</summary>
    /// <exception cref="PoIPDecodeException">Oversize or not a valid message.</exception>
    public static Message Decode(ReadOnlySpan<byte> body, int maxSize)
    {
        if (body.Length > maxSize)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Oversize, $"{body.Length} bytes exceeds the {maxSize}-byte limit.");
        }

        try
        {
            return Message.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Malformed, ex.Message, ex);
        }
    }

    /// <summary>The peers of a reply that can be used: valid ids, readable addresses, at most <see cref="MaxPeersPerReply"/>.</summary>
    public static List<KadPeer> ReadPeers(IList<Message.Types.Peer> peers, out int dropped)
    {
        dropped = 0;
        var result = new List<KadPeer>(Math.Min(peers.Count, MaxPeersPerReply));
        foreach (var p in peers)
        {
            if (result.Count >= MaxPeersPerReply || !PeerId.TryFromBytes(p.Id.Span, out var id))
            {
                dropped++;
                continue;
            }

            result.Add(new KadPeer(id, ReadAddresses(p.Addrs)));
        }

        return result;
    }

    public static List<Multiaddr> ReadAddresses(IList<ByteString> addrs)
    {
        var list = new List<Multiaddr>(Math.Min(addrs.Count, MaxAddressesPerPeer));
        foreach (var a in addrs)
        {
            if (list.Count >= MaxAddressesPerPeer)
            {
                break;
            }

            if (Multiaddr.TryFromBytes(a.Span, out var ma) && ma!.Components.Count > 0)
            {
                var bare = ma.WithoutPeerId();
                if (bare.Components.Count > 0 && !list.Contains(bare))
                {
                    list.Add(bare);
                }
            }
        }

        return list;
    }

    public static Message.Types.Peer ToWire(PeerId peer, IEnumerable<Multiaddr> addresses, bool connected)
    {
        var p = new Message.Types.Peer
        {
            Id = ByteString.CopyFrom(peer.Bytes),
            Connection = connected ? Message.Types.ConnectionType.Connected : Message.Types.ConnectionType.NotConnected,
        };
        foreach (var a in addresses)
        {
            p.Addrs.Add(ByteString.CopyFrom(a.WithoutPeerId().ToBytes()));
        }

        return p;
    }

    /// <summary>
    /// True when <paramref name="key"/> is what js's <c>CID.decode</c> accepts as a provider key: a multihash
    /// (CIDv0 is the sha2-256 one) or CIDv1 bytes (version 1, a codec, then a multihash).
    /// </summary>
    public static bool IsProviderKey(ReadOnlySpan<byte> key)
    {
        if (key.Length is < 2 or > 128)
        {
            return false;
        }

        if (key[0] == 0x12)
        {
            return key.Length == 34 && key[1] == 0x20; // CIDv0: sha2-256 multihash only
        }

        if (key[0] != 0x01)
        {
            return false;
        }

        if (UnsignedVarint.TryRead(key[1..], out _, out int codecLength) != UnsignedVarint.ReadStatus.Ok)
        {
            return false;
        }

        return IsMultihash(key[(1 + codecLength)..]);
    }

    /// <summary>A well-formed multihash whose digest length matches its header.</summary>
    public static bool IsMultihash(ReadOnlySpan<byte> bytes)
    {
        if (UnsignedVarint.TryRead(bytes, out _, out int codeLength) != UnsignedVarint.ReadStatus.Ok
            || UnsignedVarint.TryRead(bytes[codeLength..], out ulong length, out int lengthLength) != UnsignedVarint.ReadStatus.Ok)
        {
            return false;
        }

        return length <= 64 && (ulong)(bytes.Length - codeLength - lengthLength) == length;
    }
}
