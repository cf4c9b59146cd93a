using System.Buffers.Binary;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Reads what <see cref="ArgsWriter"/> wrote; any mismatch is corrupt journal data.</summary>
internal sealed class ArgsReader
{
    private const int MaxBytes = 4 << 20;
    private readonly byte[] _bytes;
    private int _offset;

    public ArgsReader(byte[] bytes) => _bytes = bytes;

    public byte[] Bytes()
    {
        uint length = U32();
        if (length > MaxBytes || length > (uint)(_bytes.Length - _offset))
        {
            throw new InvalidDataException("Journal arguments are truncated.");
        }

        byte[] value = _bytes.AsSpan(_offset, (int)length).ToArray();
        _offset += (int)length;
        return value;
    }

    public PeerId Peer() => PeerId.TryFromBytes(Bytes(), out var peer) ? peer : throw new InvalidDataException("Journal peer id is not a multihash.");

    public RequestId Request() => Sha256Digest.TryRead(Bytes(), out var digest) ? new RequestId(digest) : throw new InvalidDataException("Journal request id is not 32 bytes.");

    public TokenAmount Amount() => new(U128());

    public UInt128 U128() => BinaryPrimitives.ReadUInt128BigEndian(Raw(16));

    public uint U32() => BinaryPrimitives.ReadUInt32BigEndian(Raw(4));

    public Guid Guid() => new(Raw(16));

    /// <summary>Whether unread bytes remain (for fields appended to an operation after it was first journaled).</summary>
    public bool HasMore => _offset < _bytes.Length;

    public void End()
    {
        if (_offset != _bytes.Length)
        {
            throw new InvalidDataException("Journal arguments have trailing bytes.");
        }
    }

    private ReadOnlySpan<byte> Raw(int count)
    {
        if (count > _bytes.Length - _offset)
        {
            throw new InvalidDataException("Journal arguments are truncated.");
        }

        var span = _bytes.AsSpan(_offset, count);
        _offset += count;
        return span;
    }
}
