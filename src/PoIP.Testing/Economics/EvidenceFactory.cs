using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;

namespace PoIP.Testing.Economics;

/// <summary>Builds real signed requests, receipts, verdicts, records and evidence for economic contract tests.</summary>
public static class EvidenceFactory
{
    /// <summary>A fixed instant stamped on the messages.</summary>
    public static DateTimeOffset Stamp { get; } = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A request signed by <paramref name="client"/>.</summary>
    public static SignedMessage<InferenceRequest> Request(Ed25519KeyPair client, ulong nonce, TokenAmount priceCap)
    {
        ArgumentNullException.ThrowIfNull(client);
        var request = InferenceRequest.ForPrompt(
            "Once upon a time",
            new ModelId(Sha256Digest.Compute("stories260K"u8)),
            client.PeerId,
            SamplingParameters.Greedy,
            seed: 42,
            maxTokens: 16,
            priceCap,
            nonce,
            Stamp.AddMinutes(5));
        return SignedMessage.Create(client, request);
    }

    /// <summary>A receipt for <paramref name="request"/> signed by <paramref name="node"/>; <paramref name="variant"/> changes its output.</summary>
    public static SignedMessage<InferenceReceipt> Receipt(Ed25519KeyPair node, SignedMessage<InferenceRequest> request, TokenAmount price, int variant = 0)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(request);
        var receipt = new InferenceReceipt
        {
            RequestId = new RequestId(request.Hash),
            NodeId = node.PeerId,
            ModelId = request.Message.ModelId,
            InputRoot = request.Message.InputRoot,
            OutputRoot = MerkleTree.FromTokens([5, 6, 7 + variant]).Root,
            OutputTokenCount = 3,
            Commitment = new byte[] { 1, 2, 3, (byte)variant },
            Engine = new EngineIdentity("llama.cpp", "c0c7e147", "cpu", "avx512", false, "f16", 512),
            Timings = new InferenceTimings(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(3), 4, 3),
            Price = price,
            StopReason = StopReason.MaxTokens,
            IssuedAt = Stamp,
        };
        return SignedMessage.Create(node, receipt);
    }

    /// <summary>A verdict on <paramref name="receipt"/> signed by <paramref name="validator"/>, naming <paramref name="judgedNode"/>.</summary>
    public static SignedMessage<Verdict> Verdict(Ed25519KeyPair validator, SignedMessage<InferenceReceipt> receipt, PeerId judgedNode, VerdictOutcome outcome = VerdictOutcome.Fraud)
    {
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(receipt);
        return SignedMessage.Create(validator, new Verdict
        {
            ReceiptId = new ReceiptId(receipt.Hash),
            NodeId = judgedNode,
            ValidatorId = validator.PeerId,
            Outcome = outcome,
            Reason = outcome == VerdictOutcome.Fraud ? FraudReason.ActivationMismatch : default,
            FirstFailingPosition = outcome == VerdictOutcome.Fraud ? 1 : -1,
            IssuedAt = Stamp,
        });
    }

    /// <summary>Fraud evidence, signed by <paramref name="challenger"/>.</summary>
    public static SignedMessage<Evidence> Fraud(
        Ed25519KeyPair challenger,
        PeerId accused,
        SignedMessage<Verdict> verdict,
        SignedMessage<InferenceRequest> request,
        SignedMessage<InferenceReceipt> receipt)
    {
        ArgumentNullException.ThrowIfNull(challenger);
        ArgumentNullException.ThrowIfNull(verdict);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(receipt);
        return SignedMessage.Create(challenger, new Evidence
        {
            Kind = EvidenceKind.FraudVerdict,
            AccusedId = accused,
            First = verdict.Envelope.Encoded,
            RequestEnvelope = request.Envelope.Encoded,
            ReceiptEnvelope = receipt.Envelope.Encoded,
        });
    }

    /// <summary>A node's transaction record for <paramref name="request"/> carrying <paramref name="receipt"/>, signed by <paramref name="signer"/>.</summary>
    public static SignedMessage<TransactionRecord> Record(Ed25519KeyPair signer, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt>? receipt)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(request);
        return SignedMessage.Create(signer, new TransactionRecord
        {
            RequestId = new RequestId(request.Hash),
            RequestEnvelope = request.Envelope.Encoded,
            ReceiptEnvelope = receipt?.Envelope.Encoded ?? ReadOnlyMemory<byte>.Empty,
            Role = TransactionRole.Node,
            RecordedAt = Stamp,
        });
    }

    /// <summary>Equivocation evidence from two records, signed by <paramref name="challenger"/>.</summary>
    public static SignedMessage<Evidence> Equivocation(Ed25519KeyPair challenger, PeerId accused, SignedMessage<TransactionRecord> first, SignedMessage<TransactionRecord> second)
    {
        ArgumentNullException.ThrowIfNull(challenger);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return SignedMessage.Create(challenger, new Evidence
        {
            Kind = EvidenceKind.Equivocation,
            AccusedId = accused,
            First = first.Envelope.Encoded,
            Second = second.Envelope.Encoded,
        });
    }
}
