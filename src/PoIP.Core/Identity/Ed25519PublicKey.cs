using NSec.Cryptography;

namespace PoIP.Core.Identity;

/// <summary>An Ed25519 public key (32 bytes), able to verify signatures.</summary>
public readonly struct Ed25519PublicKey : IEquatable<Ed25519PublicKey>
{
    /// <summary>Raw key length.</summary>
    public const int Length = 32;

    /// <summary>Length of the libp2p protobuf encoding (<c>08 01 12 20</c> + key).</summary>
    public const int EncodedLength = 4 + Length;

    /// <summary>Ed25519 signature length.</summary>
    public const int SignatureLength = 64;

    private static readonly byte[] ProtobufPrefix = [0x08, 0x01, 0x12, 0x20];
    private readonly byte[]? _raw;

    private Ed25519PublicKey(byte[] raw) => _raw = raw;

    /// <summary>The 32 raw key bytes.</summary>
    public ReadOnlySpan<byte> Raw => _raw;

    /// <summary>Reads 32 raw bytes.</summary>
    public static bool TryFromRaw(ReadOnlySpan<byte> raw, out Ed25519PublicKey key)
    {
        key = default;
        if (raw.Length != Length || !NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, raw, KeyBlobFormat.RawPublicKey, out _))
        {
            return false;
        }

        key = new Ed25519PublicKey(raw.ToArray());
        return true;
    }

    /// <summary>Reads 32 raw bytes.</summary>
    /// <exception cref="FormatException">Not an Ed25519 public key.</exception>
    public static Ed25519PublicKey FromRaw(ReadOnlySpan<byte> raw) =>
        TryFromRaw(raw, out var key) ? key : throw new FormatException("Not an Ed25519 public key.");

    /// <summary>Reads the libp2p protobuf encoding of an Ed25519 key (exactly 36 bytes).</summary>
    public static bool TryReadProtobuf(ReadOnlySpan<byte> encoded, out Ed25519PublicKey key)
    {
        key = default;
        return encoded.Length == EncodedLength && encoded[..4].SequenceEqual(ProtobufPrefix) && TryFromRaw(encoded[4..], out key);
    }

    /// <summary>Writes the libp2p protobuf encoding (36 bytes).</summary>
    public void WriteProtobuf(Span<byte> destination)
    {
        ProtobufPrefix.CopyTo(destination);
        Raw.CopyTo(destination[4..]);
    }

    /// <summary>The libp2p protobuf encoding as a new array.</summary>
    public byte[] ToProtobuf()
    {
        var bytes = new byte[EncodedLength];
        WriteProtobuf(bytes);
        return bytes;
    }

    /// <summary>The peer id of this key.</summary>
    public PeerId ToPeerId() => PeerId.FromPublicKey(this);

    /// <summary>Verifies an Ed25519 signature over <paramref name="data"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (_raw is null || signature.Length != SignatureLength)
        {
            return false;
        }

        var key = NSec.Cryptography.PublicKey.Import(SignatureAlgorithm.Ed25519, _raw, KeyBlobFormat.RawPublicKey);
        return SignatureAlgorithm.Ed25519.Verify(key, data, signature);
    }

    /// <inheritdoc />
    public bool Equals(Ed25519PublicKey other) => Raw.SequenceEqual(other.Raw);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Ed25519PublicKey other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Raw);
        return hash.ToHashCode();
    }

    /// <summary>Equality by bytes.</summary>
    public static bool operator ==(Ed25519PublicKey left, Ed25519PublicKey right) => left.Equals(right);

    /// <summary>Inequality by bytes.</summary>
    public static bool operator !=(Ed25519PublicKey left, Ed25519PublicKey right) => !left.Equals(right);

    /// <summary>Hex of the raw key.</summary>
    public override string ToString() => Convert.ToHexStringLower(Raw);
}
