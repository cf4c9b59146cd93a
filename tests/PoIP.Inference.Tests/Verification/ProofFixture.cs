using PoIP.Core.Protocol;
using PoIP.Inference.Verification;

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
