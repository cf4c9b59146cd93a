using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PoIP.Core.Hashing;

/// <summary>A SHA-256 digest held by value (no heap allocation), compared and hashed by value.</summary>
public readonly record struct Sha256Digest
{
    /// <summary>Digest length in bytes.</summary>
    public const int Length = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    /// <summary>Creates a digest from exactly 32 bytes.</summary>
    /// <exception cref="ArgumentException">The span is not 32 bytes long.</exception>
    public Sha256Digest(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"A SHA-256 digest is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        }

        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    /// <summary>The all-zero digest (never the hash of real data in practice).</summary>
    public static Sha256Digest Zero => default;

    /// <summary>Hashes <paramref name="data"/>.</summary>
    public static Sha256Digest Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Length];
        SHA256.HashData(data, hash);
        return new Sha256Digest(hash);
    }

    /// <summary>Parses 64 hex characters.</summary>
    /// <exception cref="FormatException">The text is not 64 hex characters.</exception>
    public static Sha256Digest ParseHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (!TryParseHex(hex, out var digest))
        {
            throw new FormatException("A SHA-256 digest is 64 hex characters.");
        }

        return digest;
    }

    /// <summary>Tries to parse 64 hex characters.</summary>
    public static bool TryParseHex(ReadOnlySpan<char> hex, out Sha256Digest digest)
    {
        digest = default;
        if (hex.Length != Length * 2)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Length];
        if (Convert.FromHexString(hex, bytes, out _, out int written) != System.Buffers.OperationStatus.Done || written != Length)
        {
            return false;
        }

        digest = new Sha256Digest(bytes);
        return true;
    }

    /// <summary>Tries to read a digest from a span that must be exactly 32 bytes.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out Sha256Digest digest)
    {
        digest = bytes.Length == Length ? new Sha256Digest(bytes) : default;
        return bytes.Length == Length;
    }

    /// <summary>Writes the 32 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>The 32 bytes as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Lower-case hex.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>The first 64 bits, big-endian (for sampling decisions and short displays).</summary>
    public ulong Prefix64 => _a;
}
