using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;

namespace PoIP.TestUtils;

/// <summary>Valid instances of every protocol message, for codec and flow tests.</summary>
public static class SampleMessages
{
    /// <summary>A fixed instant used by samples.</summary>
    public static DateTimeOffset Now { get; } = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A request for <paramref name="prompt"/> signed by nobody yet.</summary>
    public static InferenceRequest Request(PeerId client, string prompt = "Once upon a time", ulong nonce = 1) =>
        InferenceRequest.ForPrompt(
            prompt,
            new ModelId(Sha256Digest.Compute("model"u8)),
            client,
            new SamplingParameters { Temperature = 0.7f, TopK = 40, TopP = 0.9f, MinP = 0.05f, StopSequences = ["\n\n"] },
            seed: 42,
            maxTokens: 64,
            priceCap: TokenAmount.ParseTokens("0.01"),
            nonce: nonce,
            expiresAt: Now.AddMinutes(5));

    /// <summary>A receipt answering <paramref name="requestId"/>.</summary>
    public static InferenceReceipt Receipt(PeerId node, RequestId requestId, InferenceRequest request) => new()
    {
        RequestId = requestId,
        NodeId = node,
        ModelId = request.ModelId,
        InputRoot = request.InputRoot,
        OutputRoot = Core.Merkle.MerkleTree.FromTokens([5, 6, 7]).Root,
        OutputTokenCount = 3,
        Commitment = new byte[] { 1, 2, 3, 4 },
        Engine = new EngineIdentity("llama.cpp", "c0c7e147", "cpu", "avx512", false, "f16", 512),
        Timings = new InferenceTimings(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(30), 5, 3),
        Price = TokenAmount.ParseTokens("0.005"),
        StopReason = StopReason.MaxTokens,
        IssuedAt = Now,
    };

    /// <summary>A verdict.</summary>
    public static Verdict Verdict(PeerId node, PeerId validator, ReceiptId receipt) => new()
    {
        ReceiptId = receipt,
        NodeId = node,
        ValidatorId = validator,
        Outcome = VerdictOutcome.Fraud,
        Reason = FraudReason.ActivationMismatch,
        FirstFailingPosition = 32,
        Detail = "chunk 1: 40/128 exponent mismatches",
        IssuedAt = Now,
    };

    /// <summary>A transaction record.</summary>
    public static TransactionRecord Record(ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> receiptEnvelope) => new()
    {
        RequestId = RequestId.FromEnvelope(requestEnvelope.Span),
        RequestEnvelope = requestEnvelope,
        ReceiptEnvelope = receiptEnvelope,
        Role = TransactionRole.Node,
        RecordedAt = Now,
    };
}
