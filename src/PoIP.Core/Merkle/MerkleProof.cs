using PoIP.Core.Hashing;

namespace PoIP.Core.Merkle;

/// <summary>
/// An RFC 6962 inclusion proof: the audit path of one leaf in a tree of a given size. Verification
/// follows RFC 9162 §2.1.3.2 against the size-bound root, so it fails for any change of leaf,
/// sibling, index or tree size.
/// </summary>
public sealed record MerkleProof
{
    /// <summary>Maximum path length accepted (trees of up to 2^63 leaves).</summary>
    public const int MaxPathLength = 63;

    /// <summary>Creates a proof.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Index or size out of range, or a path too long.</exception>
    public MerkleProof(long leafIndex, long treeSize, IReadOnlyList<Sha256Digest> path)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegative(leafIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leafIndex, treeSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(path.Count, MaxPathLength, nameof(path));
        LeafIndex = leafIndex;
        TreeSize = treeSize;
        Path = path;
    }

    /// <summary>Zero-based index of the leaf.</summary>
    public long LeafIndex { get; }

    /// <summary>Number of leaves in the tree.</summary>
    public long TreeSize { get; }

    /// <summary>Sibling hashes from the leaf up to the root.</summary>
    public IReadOnlyList<Sha256Digest> Path { get; }

    /// <summary>True when the leaf with these data is at <see cref="LeafIndex"/> in the tree with <paramref name="root"/>.</summary>
    public bool VerifyLeafData(ReadOnlySpan<byte> leafData, in Sha256Digest root) => VerifyLeafHash(MerkleHasher.HashLeaf(leafData), root);

    /// <summary>True when the leaf hash is at <see cref="LeafIndex"/> in the tree with <paramref name="root"/>.</summary>
    public bool VerifyLeafHash(in Sha256Digest leafHash, in Sha256Digest root)
    {
        long fn = LeafIndex;
        long sn = TreeSize - 1;
        var r = leafHash;
        foreach (var p in Path)
        {
            if (sn == 0)
            {
                return false; // path longer than the tree is tall
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleHasher.HashNode(p, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = MerkleHasher.HashNode(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && MerkleHasher.HashRoot(TreeSize, r) == root;
    }
}
