using System.Security.Cryptography;
using PoIP.Core.Hashing;

namespace PoIP.Core.Merkle;

/// <summary>
/// RFC 6962 hashing with domain separation: a leaf is <c>SHA-256(0x00 ‖ data)</c>, an inner node
/// <c>SHA-256(0x01 ‖ left ‖ right)</c>, so no leaf can pose as a node (second-preimage safe).
/// PoIP's published root also binds the leaf count: <c>SHA-256(0x02 ‖ u64le(size) ‖ MTH)</c>, so
/// a proof can never be replayed against a tree of another size.
/// </summary>
public static class MerkleHasher
{
    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;
    private const byte RootPrefix = 0x02;

    /// <summary>The RFC 6962 hash of an empty tree: <c>SHA-256("")</c>.</summary>
    public static Sha256Digest EmptyTreeHash { get; } = Sha256Digest.Compute([]);

    /// <summary>The published root: the tree hash bound to the leaf count.</summary>
    public static Sha256Digest HashRoot(long leafCount, in Sha256Digest treeHash)
    {
        Span<byte> buffer = stackalloc byte[1 + sizeof(long) + Sha256Digest.Length];
        buffer[0] = RootPrefix;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(buffer[1..], leafCount);
        treeHash.CopyTo(buffer[(1 + sizeof(long))..]);
        return Sha256Digest.Compute(buffer);
    }

    /// <summary>Hashes a leaf.</summary>
    public static Sha256Digest HashLeaf(ReadOnlySpan<byte> data)
    {
        if (data.Length <= 1023)
        {
            Span<byte> buffer = stackalloc byte[data.Length + 1];
            buffer[0] = LeafPrefix;
            data.CopyTo(buffer[1..]);
            return Sha256Digest.Compute(buffer);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        return HashLeaf(hash, data);
    }

    /// <summary>Hashes a leaf with a reusable incremental hash: no copy of the data, no allocation.</summary>
    internal static Sha256Digest HashLeaf(IncrementalHash hash, ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> prefix = [LeafPrefix];
        hash.AppendData(prefix);
        hash.AppendData(data);
        Span<byte> output = stackalloc byte[Sha256Digest.Length];
        hash.GetHashAndReset(output);
        return new Sha256Digest(output);
    }

    /// <summary>Hashes an inner node with a reusable incremental hash.</summary>
    internal static Sha256Digest HashNode(IncrementalHash hash, in Sha256Digest left, in Sha256Digest right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Sha256Digest.Length)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Sha256Digest.Length)..]);
        hash.AppendData(buffer);
        hash.GetHashAndReset(buffer[..Sha256Digest.Length]);
        return new Sha256Digest(buffer[..Sha256Digest.Length]);
    }

    /// <summary>Hashes an inner node from its two children.</summary>
    public static Sha256Digest HashNode(in Sha256Digest left, in Sha256Digest right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Sha256Digest.Length)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Sha256Digest.Length)..]);
        return Sha256Digest.Compute(buffer);
    }
}
