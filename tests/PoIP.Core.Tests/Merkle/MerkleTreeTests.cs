using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PoIP.Core.Hashing;
using PoIP.Core.Merkle;

namespace PoIP.Core.Tests.Merkle;

public sealed class MerkleTreeTests
{
    [Fact]
    public void TreeHash_Empty_IsSha256OfNothing() =>
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", MerkleTree.FromChunks([], 16).TreeHash.ToString());

    [Fact]
    public void Root_BindsLeafCount()
    {
        var tree = MerkleTree.FromChunks([1, 2, 3, 4], 2);
        Assert.Equal(Sha256Digest.Compute([2, 2, 0, 0, 0, 0, 0, 0, 0, .. tree.TreeHash.ToArray()]), tree.Root);
    }

    [Fact]
    public void Root_OneLeaf_IsPrefixedLeafHash()
    {
        byte[] data = [1, 2, 3];
        Assert.Equal(Sha256Digest.Compute([0, 1, 2, 3]), MerkleTree.FromChunks(data, 16).TreeHash);
    }

    [Fact]
    public void Root_ThreeLeaves_FollowsRfc6962Split()
    {
        // RFC 6962: MTH(d0..d2) = H(1 ‖ MTH(d0,d1) ‖ MTH(d2)), with the split at the largest power of two below n.
        var l = Enumerable.Range(0, 3).Select(i => Sha256Digest.Compute([0, (byte)i])).ToArray();
        static Sha256Digest Node(Sha256Digest a, Sha256Digest b) => Sha256Digest.Compute([1, .. a.ToArray(), .. b.ToArray()]);
        Assert.Equal(Node(Node(l[0], l[1]), l[2]), MerkleTree.FromChunks([0, 1, 2], 1).TreeHash);
    }

    [Property(MaxTest = 300)]
    public bool GetProof_EveryLeaf_Verifies(PositiveInt size)
    {
        int n = (size.Get % 200) + 1;
        byte[] data = RandomNumberGenerator.GetBytes(n * 3);
        var tree = MerkleTree.FromChunks(data, 3);
        for (int i = 0; i < n; i++)
        {
            if (!tree.GetProof(i).VerifyLeafData(data.AsSpan(i * 3, 3), tree.Root))
            {
                return false;
            }
        }

        return true;
    }

    [Property(MaxTest = 300)]
    public bool RootBuilder_AnyLeafCount_EqualsTreeRoot(PositiveInt size)
    {
        int n = size.Get % 600;
        byte[] data = RandomNumberGenerator.GetBytes(n * 5);
        using var builder = new MerkleRootBuilder();
        for (int i = 0; i < n; i++)
        {
            builder.AppendLeafData(data.AsSpan(i * 5, 5));
        }

        return builder.GetRoot() == MerkleTree.FromChunks(data, 5).Root && builder.Count == n;
    }

    [Property(MaxTest = 500)]
    public Property Proof_AnyChange_FailsToVerify(PositiveInt size, PositiveInt leaf, int mutation)
    {
        int n = (size.Get % 100) + 2;
        int index = leaf.Get % n;
        byte[] data = RandomNumberGenerator.GetBytes(n * 4);
        var tree = MerkleTree.FromChunks(data, 4);
        var proof = tree.GetProof(index);
        byte[] leafData = data.AsSpan(index * 4, 4).ToArray();

        bool changedLeaf = !proof.VerifyLeafData([.. leafData, 0], tree.Root);
        bool otherIndex = !new MerkleProof((index + 1) % n, n, proof.Path).VerifyLeafData(leafData, tree.Root)
            || tree.GetProof((index + 1) % n).Path.SequenceEqual(proof.Path); // identical paths cannot distinguish
        bool biggerTree = !new MerkleProof(index, n + 1 + (Math.Abs(mutation) % 5), proof.Path).VerifyLeafData(leafData, tree.Root);
        bool changedSibling = true;
        if (proof.Path.Count > 0)
        {
            var path = proof.Path.ToArray();
            int at = Math.Abs(mutation) % path.Length;
            byte[] sibling = path[at].ToArray();
            sibling[Math.Abs(mutation) % 32] ^= 1;
            path[at] = new Sha256Digest(sibling);
            changedSibling = !new MerkleProof(index, n, path).VerifyLeafData(leafData, tree.Root);
        }

        bool shorterPath = proof.Path.Count == 0 || !new MerkleProof(index, n, proof.Path.Take(proof.Path.Count - 1).ToArray()).VerifyLeafData(leafData, tree.Root);
        bool longerPath = !new MerkleProof(index, n, [.. proof.Path, Sha256Digest.Compute([9])]).VerifyLeafData(leafData, tree.Root);
        return (changedLeaf && otherIndex && biggerTree && changedSibling && shorterPath && longerPath)
            .Label($"n={n} i={index} leaf={changedLeaf} index={otherIndex} size={biggerTree} sibling={changedSibling} short={shorterPath} long={longerPath}");
    }

    [Fact]
    public void Proof_LeafHashUsedAsNode_DoesNotVerify()
    {
        // Second-preimage: presenting an inner node's children as a leaf must fail thanks to domain separation.
        byte[] data = RandomNumberGenerator.GetBytes(8);
        var tree = MerkleTree.FromChunks(data, 4);
        byte[] fakeLeaf = [.. tree.GetLeafHash(0).ToArray(), .. tree.GetLeafHash(1).ToArray()];
        Assert.NotEqual(tree.TreeHash, MerkleTree.FromChunks(fakeLeaf, 64).TreeHash);
    }

    [Fact]
    public void FromTokens_SameTokens_SameRoot_DifferentTokens_DifferentRoot()
    {
        int[] tokens = Enumerable.Range(0, 100).ToArray();
        Assert.Equal(MerkleTree.FromTokens(tokens).Root, MerkleTree.FromTokens([.. tokens]).Root);
        tokens[57] = 9999;
        Assert.NotEqual(MerkleTree.FromTokens(Enumerable.Range(0, 100).ToArray()).Root, MerkleTree.FromTokens(tokens).Root);
    }
}
