using System.Buffers.Binary;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Writes an operation's arguments for the journal (fixed-width integers big-endian, byte strings length-prefixed).</summary>
internal sealed class ArgsWriter
{
    private readonly List<byte> _bytes = new(64);

    public ArgsWriter Bytes(ReadOnlySpan<byte> value)
    {
        U32((uint)value.Length);
        foreach (byte b in value)
        {
            _bytes.Add(b);
        }

        return this;
    }

    public ArgsWriter Peer(PeerId peer) => Bytes(peer.Bytes);

    public ArgsWriter Request(RequestId request) => Bytes(request.Digest.ToArray());

    public ArgsWriter Amount(TokenAmount amount) => U128(amount.BaseUnits);

    public ArgsWriter U128(UInt128 value)
    {
        Span<byte> buffer = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(buffer, value);
        return Raw(buffer);
    }

    public ArgsWriter U32(uint value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, value);
        return Raw(buffer);
    }

    public ArgsWriter Guid(Guid value) => Raw(value.ToByteArray());

    public byte[] ToArray() => [.. _bytes];

    private ArgsWriter Raw(ReadOnlySpan<byte> buffer)
    {
        foreach (byte b in buffer)
        {
            _bytes.Add(b);
        }

        return this;
    }
}
