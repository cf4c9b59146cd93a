using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;

namespace PoIP.Inference.Verification;

/// <summary>Turns a <see cref="VerificationResult"/> into a validator's signed <see cref="Verdict"/>.</summary>
public static class VerdictSigner
{
    /// <summary>Signs the verdict on <paramref name="receipt"/> with the validator's key, timestamped by <paramref name="timeProvider"/>.</summary>
    public static SignedMessage<Verdict> Sign(Ed25519KeyPair validator, SignedMessage<InferenceReceipt> receipt, VerificationResult result, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var verdict = new Verdict
        {
            ReceiptId = ReceiptId.FromEnvelope(receipt.Envelope.Encoded.Span),
            NodeId = receipt.Message.NodeId,
            ValidatorId = validator.PeerId,
            Outcome = result.Outcome,
            Reason = result.Reason,
            FirstFailingPosition = Math.Max(-1, result.FirstFailingPosition),
            Detail = ReexecutionVerifier.Truncate(result.Detail),
            IssuedAt = timeProvider.GetUtcNow(),
        };
        return SignedMessage.Create(validator, verdict);
    }
}
