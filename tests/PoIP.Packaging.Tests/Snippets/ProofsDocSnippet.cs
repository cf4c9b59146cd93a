using PoIP.Core.Engine;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Sampling;
using PoIP.Inference.Verification;

namespace PoIP.Packaging.Tests.Snippets;

/// <summary>The example of docs/proofs.md §2 (compiled here; docs/proofs.md shows it verbatim).</summary>
internal static class ProofsDocSnippet
{
    public static async Task<SignedMessage<Verdict>> VerifyAsync(
        IInferenceEngine engine,
        SignedMessage<InferenceRequest> request,
        SignedMessage<InferenceReceipt> receipt,
        ReadOnlyMemory<byte> promptBytes,
        IReadOnlyList<int> outputTokens,
        Ed25519KeyPair validatorKey,
        TimeProvider timeProvider)
    {
        // begin-snippet: proofs-verify
        var verifier = new ReexecutionVerifier(engine, new ReexecutionVerifierOptions
        {
            SamplerFactory = vocabulary => new TokenSampler(vocabulary), // the default: PoIP's sampler contract
        });
        VerificationResult result = await verifier.VerifyAsync(new VerificationCase(request, receipt, promptBytes, outputTokens));
        SignedMessage<Verdict> verdict = VerdictSigner.Sign(validatorKey, receipt, result, timeProvider);
        // end-snippet
        return verdict;
    }
}
