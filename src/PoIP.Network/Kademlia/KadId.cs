using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace PoIP.Network.Kademlia;

/// <summary>A point of the 256-bit Kademlia key space: SHA-256 of a key or a peer id; distance is XOR.</summary>
internal readonly record struct KadId(ulong A, ulong B, ulong C, ulong D) : IComparable<KadId>
{
    public const int Bits = 256;

    /// <summary>The key-space point of <paramref name="key"/> (its SHA-256).</summary>
    public static KadId FromKey(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(key, hash);
        return FromHash(hash);
    }

    public static KadId FromHash(ReadOnlySpan<byte> hash) => new(
        BinaryPrimitives.ReadUInt64BigEndian(hash),
        BinaryPrimitives.ReadUInt64BigEndian(hash[8..]),
        BinaryPrimitives.ReadUInt64BigEndian(hash[16..]),
        BinaryPrimitives.ReadUInt64BigEndian(hash[24..]));

    public KadId Xor(KadId other) => new(A ^ other.A, B ^ other.B, C ^ other.C, D ^ other.D);

    /// <summary>Leading zero bits (256 for zero): the common prefix length when this is a distance.</summary>
    public int LeadingZeros() =>
        A != 0 ? BitOperations.LeadingZeroCount(A)
        : B != 0 ? 64 + BitOperations.LeadingZeroCount(B)
        : C != 0 ? 128 + BitOperations.LeadingZeroCount(C)
        : D != 0 ? 192 + BitOperations.LeadingZeroCount(D)
        : 256;

    public int CommonPrefixLength(KadId other) => Xor(other).LeadingZeros();

    public int CompareTo(KadId other) =>
        A != other.A ? A.CompareTo(other.A)
        : B != other.B ? B.CompareTo(other.B)
        : C != other.C ? C.CompareTo(other.C)
        : D.CompareTo(other.D);

    /// <summary>Negative when <paramref name="x"/> is closer to this point than <paramref name="y"/>.</summary>
    public int CompareDistance(KadId x, KadId y) => Xor(x).CompareTo(Xor(y));
}
