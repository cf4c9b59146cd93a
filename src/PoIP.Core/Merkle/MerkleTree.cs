using System.Buffers.Binary;
using System.Security.Cryptography;
using PoIP.Core.Hashing;

namespace PoIP.Core.Merkle;

/// <summary>
/// An RFC 6962 Merkle tree kept in memory with all its levels, so inclusion proofs cost O(log n).
/// Clients build it over the prompt's UTF-8 chunks (or token ids) and sign the root; nodes
/// recompute the root from what they received. For roots of large inputs without proofs, use
/// <see cref="MerkleRootBuilder"/>.
/// </summary>
public sealed class MerkleTree
{
    /// <summary>
    /// Default bytes per leaf for prompt text (16 KiB). Each leaf costs one SHA-256 call (~0.3 µs
    /// of fixed cost on top of the bytes), so 16 KiB leaves keep a Merkle root above 0.9 of plain
    /// SHA-256 throughput while still proving any part of a 1 MiB prompt with 6 sibling hashes.
    /// </summary>
    public const int DefaultChunkSize = 16 * 1024;

    /// <summary>Default token ids per leaf for token trees.</summary>
    public const int DefaultTokensPerLeaf = 32;

    private readonly Sha256Digest[][] _levels;

    private MerkleTree(Sha256Digest[] leaves)
    {
        var levels = new List<Sha256Digest[]> { leaves };
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var current = leaves;
        while (current.Length > 1)
        {
            var next = new Sha256Digest[(current.Length + 1) / 2];
            for (int i = 0; i < current.Length / 2; i++)
            {
                next[i] = MerkleHasher.HashNode(hash, current[2 * i], current[(2 * i) + 1]);
            }

            if ((current.Length & 1) == 1)
            {
                next[^1] = current[^1]; // an unpaired node is promoted (RFC 6962's split rule, level by level)
            }

            levels.Add(next);
            current = next;
        }

        _levels = [.. levels];
        TreeHash = leaves.Length == 0 ? MerkleHasher.EmptyTreeHash : current[0];
        Root = MerkleHasher.HashRoot(leaves.Length, TreeHash);
    }

    /// <summary>The published root: the RFC 6962 tree hash bound to the leaf count.</summary>
    public Sha256Digest Root { get; }

    /// <summary>The RFC 6962 tree hash (MTH).</summary>
    public Sha256Digest TreeHash { get; }

    /// <summary>Number of leaves.</summary>
    public int LeafCount => _levels[0].Length;

    /// <summary>Builds a tree over already-hashed leaves.</summary>
    public static MerkleTree FromLeafHashes(IEnumerable<Sha256Digest> leafHashes) => new([.. leafHashes]);

    /// <summary>Builds a tree over consecutive chunks of <paramref name="data"/> (the last one may be shorter).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The chunk size is not positive.</exception>
    public static MerkleTree FromChunks(ReadOnlySpan<byte> data, int chunkSize = DefaultChunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        var leaves = new Sha256Digest[(data.Length + chunkSize - 1) / chunkSize];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = 0; i < leaves.Length; i++)
        {
            int start = i * chunkSize;
            leaves[i] = MerkleHasher.HashLeaf(hash, data.Slice(start, Math.Min(chunkSize, data.Length - start)));
        }

        return new MerkleTree(leaves);
    }

    /// <summary>Builds a tree over the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static MerkleTree FromText(string text, int chunkSize = DefaultChunkSize)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FromChunks(System.Text.Encoding.UTF8.GetBytes(text), chunkSize);
    }

    /// <summary>Builds a tree over token ids, <paramref name="tokensPerLeaf"/> per leaf, each as 4 little-endian bytes.</summary>
    public static MerkleTree FromTokens(ReadOnlySpan<int> tokens, int tokensPerLeaf = DefaultTokensPerLeaf)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokensPerLeaf);
        return FromChunks(TokenBytes(tokens), tokensPerLeaf * sizeof(int));
    }

    /// <summary>The bytes a token id sequence is hashed as (4 little-endian bytes each).</summary>
    public static byte[] TokenBytes(ReadOnlySpan<int> tokens)
    {
        var bytes = new byte[tokens.Length * sizeof(int)];
        for (int i = 0; i < tokens.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * sizeof(int)), tokens[i]);
        }

        return bytes;
    }

    /// <summary>The leaf hash at <paramref name="index"/>.</summary>
    public Sha256Digest GetLeafHash(int index) => _levels[0][index];

    /// <summary>The inclusion proof of the leaf at <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such leaf.</exception>
    public MerkleProof GetProof(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LeafCount);
        var path = new List<Sha256Digest>();
        int position = index;
        for (int level = 0; level < _levels.Length - 1; level++)
        {
            var nodes = _levels[level];
            int sibling = position ^ 1;
            if (sibling < nodes.Length)
            {
                path.Add(nodes[sibling]);
            }

            position >>= 1;
        }

        return new MerkleProof(index, LeafCount, path);
    }
}
