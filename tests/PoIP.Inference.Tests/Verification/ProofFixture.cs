using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Verification;
using PoIP.Testing.Verification;

namespace PoIP.Inference.Tests.Verification;

/// <summary>The fake engines of the detection matrix and a verifier running the honest one.</summary>
internal static class ProofFixture
{
    public static readonly FakeModel Real = FakeModel.Create("real", 1, 64);

    public static FakeEngine Honest() => new(Real);

    public static FakeEngine OtherModel() => new(FakeModel.Create("other", 2, 64));

    public static FakeEngine Quantised() => new(Real.Perturbed("real-q8", 2e-2, 3));

    public static FakeEngine CheapSmall() => new(FakeModel.Create("small", 4, 32));

    public static ReexecutionVerifierOptions Options() => new() { SamplerFactory = _ => new TestSampler() };

    public static ReexecutionVerifier Verifier(FakeEngine engine, ReexecutionVerifierOptions? options = null) => new(engine, options ?? Options());

    public static TimeProvider Time() => new FixedTime();

    /// <summary>The receipt a node of identity <paramref name="engine"/> signs for <paramref name="tokens"/>, its commitment built by <paramref name="builder"/> under the receipt's binding.</summary>
    public static InferenceReceipt Receipt(SignedMessage<InferenceRequest> request, PeerId node, EngineIdentity engine, IReadOnlyList<int> tokens, StopReason stop, CommitmentBuilder builder)
    {
        var requestId = new RequestId(request.Hash);
        var outputRoot = MerkleTree.FromTokens([.. tokens]).Root;
        var message = request.Message;
        return new InferenceReceipt
        {
            RequestId = requestId,
            NodeId = node,
            ModelId = message.ModelId,
            InputRoot = message.InputRoot,
            OutputRoot = outputRoot,
            OutputTokenCount = tokens.Count,
            Commitment = builder.Build(new CommitmentBinding(requestId, message.ModelId, engine, message.InputRoot, outputRoot)).Encode(),
            Engine = engine,
            Timings = new InferenceTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 1, tokens.Count),
            Price = TokenAmount.ParseTokens("0.001"),
            StopReason = stop,
            IssuedAt = Time().GetUtcNow(),
        };
    }

    public static SamplingParameters Sampled(float temperature = 0.9f) => new() { Temperature = temperature, TopK = 40, TopP = 0.95f, MinP = 0.02f };

    public static IReadOnlyList<ProofMatrixCase> Cases() =>
    [
        new("Once upon a time", SamplingParameters.Greedy, 1, 40),
        new("the cat sat on the mat", Sampled(), 7, 64),
        new("Lily had a red ball.", Sampled(1.2f), 42, 70),
        new("x", Sampled(0.7f) with { StopSequences = ["e."] }, 9, 50),
        new("Tom and Sue went to the park", Sampled(0.8f) with { RepetitionPenalty = 1.3f }, 1234, 33),
    ];
}

/// <summary>A clock stopped at a fixed instant.</summary>
internal sealed class FixedTime : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
}
