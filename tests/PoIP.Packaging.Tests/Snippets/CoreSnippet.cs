using System.Text;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Signing;

namespace PoIP.Packaging.Tests.Snippets;

/// <summary>The example of src/PoIP.Core/README.md.</summary>
internal static class CoreSnippet
{
    public static (bool Included, bool SignedByKey) Run(string text)
    {
        // begin-snippet: core
        // The client commits to its prompt: an RFC 6962 Merkle root over 16 KiB chunks of its bytes.
        byte[] prompt = Encoding.UTF8.GetBytes(text);
        var tree = MerkleTree.FromChunks(prompt);
        MerkleProof proof = tree.GetProof(0);
        bool included = proof.VerifyLeafData(prompt.AsSpan(0, Math.Min(prompt.Length, MerkleTree.DefaultChunkSize)), tree.Root);

        // Identities are Ed25519 keys named by libp2p peer ids; messages travel in signed envelopes.
        using var key = Ed25519KeyPair.Generate();
        var envelope = SignedEnvelope.Seal(key, EnvelopeType.Verdict, tree.Root.ToArray());
        var opened = SignedEnvelope.Open(envelope.Encoded, EnvelopeType.Verdict); // throws if forged or too large
        bool signedByKey = opened.Signer == key.PeerId;
        // end-snippet
        return (included, signedByKey);
    }
}
