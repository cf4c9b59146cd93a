using System.Security.Cryptography;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;

namespace PoIP.Economics.Slashing;

/// <summary>
/// Checks slashable evidence before anything moves. Pure: no state except the validator registry
/// question it is handed. The rules are documented in docs/economics.md ("Slashing").
/// </summary>
internal static class EvidenceVerifier
{
    private static readonly byte[] FraudTag = "poip-evidence-fraud/1"u8.ToArray();
    private static readonly byte[] EquivocationTag = "poip-evidence-equivocation/1"u8.ToArray();

    /// <summary>Checks <paramref name="evidence"/> (its own signature is already verified by <see cref="SignedMessage.Open{T}"/>).</summary>
    /// <param name="evidence">The evidence.</param>
    /// <param name="isRegisteredValidator">Whether a peer is a registered validator.</param>
    /// <param name="requireRegisteredValidator">When true, a fraud verdict must come from a registered validator.</param>
    public static EvidenceCheck Check(SignedMessage<Evidence> evidence, Func<PeerId, bool> isRegisteredValidator, bool requireRegisteredValidator)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(isRegisteredValidator);
        try
        {
            return evidence.Message.Kind switch
            {
                EvidenceKind.FraudVerdict => CheckFraud(evidence.Message, isRegisteredValidator, requireRegisteredValidator),
                EvidenceKind.Equivocation => CheckEquivocation(evidence.Message),
                _ => EvidenceCheck.Fail("unknown evidence kind."),
            };
        }
        catch (PoIPException e)
        {
            return EvidenceCheck.Fail("an enclosed envelope does not verify: " + e.Message);
        }
    }

    private static EvidenceCheck CheckFraud(Evidence evidence, Func<PeerId, bool> isRegisteredValidator, bool requireRegisteredValidator)
    {
        var verdict = SignedMessage.Open<Verdict>(evidence.First);
        var request = SignedMessage.Open<InferenceRequest>(evidence.RequestEnvelope);
        var receipt = SignedMessage.Open<InferenceReceipt>(evidence.ReceiptEnvelope);
        var accused = evidence.AccusedId;
        var validator = verdict.Message.ValidatorId;

        string? problem =
            verdict.Signer != validator ? "the verdict is not signed by its validator."
            : verdict.Message.Outcome != VerdictOutcome.Fraud ? "the verdict is not a fraud verdict."
            : verdict.Message.NodeId != accused ? "the verdict concerns another node."
            : receipt.Signer != accused || receipt.Message.NodeId != accused ? "the receipt is not the accused's."
            : verdict.Message.ReceiptId != new ReceiptId(receipt.Hash) ? "the verdict judges another receipt."
            : receipt.Message.RequestId != new RequestId(request.Hash) ? "the receipt answers another request."
            : request.Signer != request.Message.ClientId ? "the request is not signed by its client."
            : validator == accused ? "a node cannot judge itself."
            : requireRegisteredValidator && !isRegisteredValidator(validator) ? "the verdict's validator is not registered."
            : null;
        if (problem is not null)
        {
            return EvidenceCheck.Fail(problem);
        }

        byte[] key = FraudKey(receipt.Hash);
        return new EvidenceCheck(new CheckedEvidence(EvidenceKind.FraudVerdict, accused, new RequestId(request.Hash), key, validator), string.Empty);
    }

    private static EvidenceCheck CheckEquivocation(Evidence evidence)
    {
        var first = SignedMessage.Open<TransactionRecord>(evidence.First);
        var second = SignedMessage.Open<TransactionRecord>(evidence.Second);
        var accused = evidence.AccusedId;

        string? problem =
            first.Signer != accused || second.Signer != accused ? "a record is not signed by the accused."
            : first.Message.Role != TransactionRole.Node || second.Message.Role != TransactionRole.Node ? "a record is not a node record."
            : first.Message.RequestId != second.Message.RequestId ? "the records concern different requests."
            : first.Message.ReceiptEnvelope.IsEmpty || second.Message.ReceiptEnvelope.IsEmpty ? "a record has no receipt (pending records never conflict)."
            : first.Message.ReceiptEnvelope.Span.SequenceEqual(second.Message.ReceiptEnvelope.Span) ? "the records carry the same receipt."
            : null;
        if (problem is not null)
        {
            return EvidenceCheck.Fail(problem);
        }

        var request = first.Message.RequestId;
        byte[] key = Key(EquivocationTag, request.Digest.ToArray(), accused.ToArray());
        return new EvidenceCheck(new CheckedEvidence(EvidenceKind.Equivocation, accused, request, key, default), string.Empty);
    }

    /// <summary>The one-use key of a fraud offence: every verdict on one receipt is one offence.</summary>
    public static byte[] FraudKey(Sha256Digest receiptHash) => Key(FraudTag, receiptHash.ToArray(), []);

    private static byte[] Key(byte[] tag, byte[] first, byte[] second)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(tag);
        hash.AppendData(first);
        hash.AppendData(second);
        return hash.GetHashAndReset();
    }
}
