using System.Security.Cryptography;
using PoIP.Core.Encoding;

namespace PoIP.Core.Identity;

/// <summary>
/// A libp2p peer id: a multihash of the protobuf-encoded public key. Ed25519 keys (36 encoded
/// bytes) are inlined with the identity multihash, so their text form starts with <c>12D3KooW</c>;
/// larger keys use SHA-256. Compared by value.
/// </summary>
public readonly struct PeerId : IEquatable<PeerId>
{
    /// <summary>Longest accepted multihash (identity-inlined keys are at most 42 bytes of key).</summary>
    public const int MaxLength = 64;

    private const byte IdentityCode = 0x00;
    private const byte Sha256Code = 0x12;
    private const int MaxInlineKeyLength = 42;

    private readonly byte[]? _bytes;

    private PeerId(byte[] multihash) => _bytes = multihash;

    /// <summary>The multihash bytes (the binary peer id).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>True for the default value, which names no peer.</summary>
    public bool IsEmpty => _bytes is null;

    /// <summary>Derives the peer id of an Ed25519 public key.</summary>
    public static PeerId FromPublicKey(Ed25519PublicKey publicKey)
    {
        Span<byte> encoded = stackalloc byte[Ed25519PublicKey.EncodedLength];
        publicKey.WriteProtobuf(encoded);
        var multihash = new byte[2 + encoded.Length];
        multihash[0] = IdentityCode;
        multihash[1] = (byte)encoded.Length;
        encoded.CopyTo(multihash.AsSpan(2));
        return new PeerId(multihash);
    }

    /// <summary>Derives the peer id of any protobuf-encoded libp2p public key.</summary>
    public static PeerId FromEncodedPublicKey(ReadOnlySpan<byte> protobufPublicKey)
    {
        if (protobufPublicKey.Length <= MaxInlineKeyLength)
        {
            var inline = new byte[2 + protobufPublicKey.Length];
            inline[0] = IdentityCode;
            inline[1] = (byte)protobufPublicKey.Length;
            protobufPublicKey.CopyTo(inline.AsSpan(2));
            return new PeerId(inline);
        }

        var hashed = new byte[34];
        hashed[0] = Sha256Code;
        hashed[1] = 32;
        SHA256.HashData(protobufPublicKey, hashed.AsSpan(2));
        return new PeerId(hashed);
    }

    /// <summary>Reads a binary peer id (a multihash: identity of ≤ 42 bytes, or SHA-256).</summary>
    public static bool TryFromBytes(ReadOnlySpan<byte> multihash, out PeerId peerId)
    {
        peerId = default;
        if (multihash.Length is < 2 or > MaxLength)
        {
            return false;
        }

        if (UnsignedVarint.TryRead(multihash, out ulong code, out int codeLength) != UnsignedVarint.ReadStatus.Ok
            || UnsignedVarint.TryRead(multihash[codeLength..], out ulong length, out int lengthLength) != UnsignedVarint.ReadStatus.Ok)
        {
            return false;
        }

        int digestLength = multihash.Length - codeLength - lengthLength;
        bool valid = code switch
        {
            IdentityCode => length <= MaxInlineKeyLength && (int)length == digestLength,
            Sha256Code => length == 32 && digestLength == 32,
            _ => false,
        };
        if (!valid)
        {
            return false;
        }

        peerId = new PeerId(multihash.ToArray());
        return true;
    }

    /// <summary>Reads a binary peer id.</summary>
    /// <exception cref="FormatException">The bytes are not a supported multihash.</exception>
    public static PeerId FromBytes(ReadOnlySpan<byte> multihash) =>
        TryFromBytes(multihash, out var id) ? id : throw new FormatException("Not a libp2p peer id (identity or sha2-256 multihash).");

    /// <summary>Parses the base58btc text form (<c>12D3KooW...</c> or <c>Qm...</c>).</summary>
    public static bool TryParse(string? text, out PeerId peerId)
    {
        peerId = default;
        return text is not null && Base58Btc.TryDecode(text, out var bytes, maxLength: 128) && TryFromBytes(bytes, out peerId);
    }

    /// <summary>Parses the base58btc text form.</summary>
    /// <exception cref="FormatException">The text is not a peer id.</exception>
    public static PeerId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a libp2p peer id.");

    /// <summary>
    /// The Ed25519 public key inlined in this id, when it is an identity multihash of an Ed25519
    /// key (so signatures can be checked from the id alone).
    /// </summary>
    public bool TryGetEd25519PublicKey(out Ed25519PublicKey publicKey)
    {
        publicKey = default;
        return _bytes is { Length: 2 + Ed25519PublicKey.EncodedLength }
            && _bytes[0] == IdentityCode
            && Ed25519PublicKey.TryReadProtobuf(_bytes.AsSpan(2), out publicKey);
    }

    /// <summary>The binary id as a new array.</summary>
    public byte[] ToArray() => _bytes is null ? [] : (byte[])_bytes.Clone();

    /// <inheritdoc />
    public bool Equals(PeerId other) => Bytes.SequenceEqual(other.Bytes);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PeerId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes);
        return hash.ToHashCode();
    }

    /// <summary>Equality by bytes.</summary>
    public static bool operator ==(PeerId left, PeerId right) => left.Equals(right);

    /// <summary>Inequality by bytes.</summary>
    public static bool operator !=(PeerId left, PeerId right) => !left.Equals(right);

    /// <summary>The base58btc text form.</summary>
    public override string ToString() => _bytes is null ? string.Empty : Base58Btc.Encode(_bytes);
}
