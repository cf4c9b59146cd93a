using PoIP.Inference.Commitments;

namespace PoIP.Inference.Tests.Commitments;

public sealed class CommitmentComparerTests
{
    private static CommitmentComparer Compare(ActivationCommitment commitment, float[][] verifierStates, CommitmentBinding? binding = null)
    {
        var comparer = new CommitmentComparer(ActivationCommitment.Decode(commitment.Encode()), binding ?? ActivationCommitmentTests.Binding(), CommitmentThresholds.Default);
        comparer.SetPrompt(verifierStates[0]);
        foreach (var state in verifierStates)
        {
            comparer.Add(state);
        }

        Assert.True(comparer.IsComplete);
        return comparer;
    }

    [Theory]
    [InlineData(CommitmentAggregation.Mean, 64, 100)]
    [InlineData(CommitmentAggregation.LastPosition, 64, 100)]
    [InlineData(CommitmentAggregation.Mean, 512, 77)]
    [InlineData(CommitmentAggregation.LastPosition, 512, 64)]
    public void Compare_HonestNoise_EveryChunkPasses(CommitmentAggregation aggregation, int hidden, int tokens)
    {
        var states = SyntheticActivations.Generate(10, tokens, hidden);
        var parameters = CommitmentParameters.Standard(hidden, tokens) with { Aggregation = aggregation };
        var commitment = ActivationCommitmentTests.Build(states, hidden, parameters);
        var comparer = Compare(commitment, SyntheticActivations.Perturb(states, 5e-4, 11));
        Assert.Null(comparer.FirstFailure);
        foreach (var chunk in comparer.Results)
        {
            Assert.True(chunk.TrimmedMeanRelativeError < 2e-3, chunk.ToString());
        }
    }

    [Theory]
    [InlineData(CommitmentAggregation.Mean)]
    [InlineData(CommitmentAggregation.LastPosition)]
    public void Compare_QuantisationSizedNoise_EveryChunkFails(CommitmentAggregation aggregation)
    {
        var states = SyntheticActivations.Generate(12, 96, 256);
        var parameters = CommitmentParameters.Standard(256, 96) with { Aggregation = aggregation };
        var commitment = ActivationCommitmentTests.Build(states, 256, parameters);
        var comparer = Compare(commitment, SyntheticActivations.Perturb(states, 2e-2, 13));
        Assert.All(comparer.Results.ToArray(), chunk => Assert.False(chunk.Passed, chunk.ToString()));
    }

    [Fact]
    public void Compare_OtherActivations_MostIndicesMismatch()
    {
        var commitment = ActivationCommitmentTests.Build(SyntheticActivations.Generate(14, 64, 256), 256);
        var comparer = Compare(commitment, SyntheticActivations.Generate(15, 64, 256));
        Assert.All(comparer.Results.ToArray(), chunk => Assert.True(!chunk.Passed && chunk.Mismatches > chunk.TopK / 2, chunk.ToString()));
    }

    [Fact]
    public void Compare_OtherBinding_Fails()
    {
        var states = SyntheticActivations.Generate(16, 64, 256);
        var commitment = ActivationCommitmentTests.Build(states, 256);
        var comparer = Compare(commitment, states, ActivationCommitmentTests.Binding("other"));
        Assert.All(comparer.Results.ToArray(), chunk => Assert.False(chunk.Passed));
    }

    [Fact]
    public void Compare_OnePositionReplacedInMeanChunk_ThatChunkFails()
    {
        var states = SyntheticActivations.Generate(17, 64, 256);
        var tampered = states.Select(s => s.ToArray()).ToArray();
        tampered[40] = SyntheticActivations.Generate(18, 1, 256)[0];
        var commitment = ActivationCommitmentTests.Build(tampered, 256);
        var comparer = Compare(commitment, states);
        Assert.True(comparer.Results[0].Passed);
        Assert.Equal(-1, comparer.Results[0].Chunk);
        Assert.True(comparer.Results[1].Passed);
        Assert.False(comparer.Results[2].Passed);
        Assert.Equal(32, comparer.FirstFailure!.Value.FirstPosition);
    }

    [Fact]
    public void Compare_OtherPrompt_OnlyThePromptFails()
    {
        var states = SyntheticActivations.Generate(20, 64, 256);
        var commitment = ActivationCommitmentTests.Build(states, 256);
        var comparer = new CommitmentComparer(commitment, ActivationCommitmentTests.Binding(), CommitmentThresholds.Default);
        comparer.SetPrompt(SyntheticActivations.Perturb([states[0]], 0.05, 21)[0]);
        foreach (var state in states)
        {
            comparer.Add(state);
        }

        Assert.False(comparer.Results[0].Passed);
        Assert.All(comparer.Results[1..].ToArray(), chunk => Assert.True(chunk.Passed));
    }

    [Fact]
    public void Build_WithoutPrefill_Throws()
    {
        var builder = new CommitmentBuilder(CommitmentParameters.Standard(64, 2), 64, 2);
        builder.OnToken(0, 1, new float[64], ReadOnlySpan<float>.Empty);
        Assert.Throws<InvalidOperationException>(() => builder.Build(ActivationCommitmentTests.Binding()));
    }

    [Fact]
    public void OnToken_SteadyState_AllocatesNothing()
    {
        const int hidden = 512, tokens = 256;
        var states = SyntheticActivations.Generate(19, tokens, hidden);

        // Warm up every code path once (first-call JIT and tier-up must not count as steady state).
        var warm = new CommitmentBuilder(CommitmentParameters.Standard(hidden, tokens), hidden, tokens);
        for (int i = 0; i < tokens; i++)
        {
            warm.OnToken(i, 1, states[i], ReadOnlySpan<float>.Empty);
        }

        var builder = new CommitmentBuilder(CommitmentParameters.Standard(hidden, tokens), hidden, tokens);
        builder.OnToken(0, 1, states[0], ReadOnlySpan<float>.Empty);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i < tokens; i++)
        {
            builder.OnToken(i, 1, states[i], ReadOnlySpan<float>.Empty);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void OnToken_OutOfOrderOrBeyondLimit_Throws()
    {
        var builder = new CommitmentBuilder(CommitmentParameters.Standard(64, 2), 64, 2);
        var state = new float[64];
        Assert.Throws<InvalidOperationException>(() => builder.OnToken(1, 1, state, ReadOnlySpan<float>.Empty));
        builder.OnToken(0, 1, state, ReadOnlySpan<float>.Empty);
        builder.OnToken(1, 1, state, ReadOnlySpan<float>.Empty);
        Assert.Throws<InvalidOperationException>(() => builder.OnToken(2, 1, state, ReadOnlySpan<float>.Empty));
        Assert.Throws<ArgumentException>(() => new CommitmentBuilder(CommitmentParameters.Standard(64, 2), 64, 2).OnToken(0, 1, new float[63], ReadOnlySpan<float>.Empty));
    }
}
