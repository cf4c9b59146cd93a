using System.Security.Cryptography;
using PoIP.Core.Hashing;

namespace PoIP.Core.Merkle;

/// <summary>
/// Computes an RFC 6962 Merkle root incrementally in O(log n) memory: leaves are appended one at
/// a time (streamed input of any size) and the root is read at the end. Equal to
/// <see cref="MerkleTree"/>'s root for the same leaves.
/// </summary>
public sealed class MerkleRootBuilder : IDisposable
{
    // _stack[i] holds the root of a perfect subtree; sizes strictly decrease with i and mirror the
    // binary digits of _count.
    private readonly List<Sha256Digest> _stack = new(64);
    private readonly List<int> _heights = new(64);
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _count;

    /// <summary>Leaves appended so far.</summary>
    public long Count => _count;

    /// <summary>Appends a leaf given its data.</summary>
    public void AppendLeafData(ReadOnlySpan<byte> data) => AppendLeafHash(MerkleHasher.HashLeaf(_hash, data));

    /// <summary>Appends an already-hashed leaf.</summary>
    public void AppendLeafHash(in Sha256Digest leafHash)
    {
        var current = leafHash;
        int height = 0;
        while (_heights.Count > 0 && _heights[^1] == height)
        {
            current = MerkleHasher.HashNode(_hash, _stack[^1], current);
            _stack.RemoveAt(_stack.Count - 1);
            _heights.RemoveAt(_heights.Count - 1);
            height++;
        }

        _stack.Add(current);
        _heights.Add(height);
        _count++;
    }

    /// <summary>The root (bound to the leaf count) of the leaves appended so far.</summary>
    public Sha256Digest GetRoot() => MerkleHasher.HashRoot(_count, GetTreeHash());

    /// <summary>The RFC 6962 tree hash of the leaves appended so far.</summary>
    public Sha256Digest GetTreeHash()
    {
        if (_stack.Count == 0)
        {
            return MerkleHasher.EmptyTreeHash;
        }

        var root = _stack[^1];
        for (int i = _stack.Count - 2; i >= 0; i--)
        {
            root = MerkleHasher.HashNode(_hash, _stack[i], root);
        }

        return root;
    }

    /// <inheritdoc />
    public void Dispose() => _hash.Dispose();
}
