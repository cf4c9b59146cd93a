using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Tests.Commitments;
using PoIP.Inference.Verification;

namespace PoIP.Inference.Tests.Verification;

public sealed class SamplingSlackTests
{
    private static ReexecutionObserver Observer(int[] claimed, float slack, double fraction, SamplingParameters sampling, int minPositions = 1, ISequenceSampler? sampler = null, ulong seed = 1)
    {
        var states = SyntheticActivations.Generate(1, claimed.Length, 64);
        var commitment = ActivationCommitmentTests.Build(states, 64);
        var comparer = new CommitmentComparer(commitment, ActivationCommitmentTests.Binding(), CommitmentThresholds.Default);
        var observer = new ReexecutionObserver(comparer, sampler ?? new TestSampler(), sampling, seed, [0, 5], claimed, slack, fraction, minPositions);
        observer.OnPrefill(2, states[0]);
        return observer;
    }

    private static void Feed(ReexecutionObserver observer, int index, int claimed, float[] logits) =>
        observer.OnToken(index, claimed, SyntheticActivations.Generate(1, index + 1, 64)[index], logits);

    [Theory]
    [InlineData(0.04f, true)]
    [InlineData(0.06f, true)]
    [InlineData(0.11f, false)]
    public void Greedy_ClaimedRunnerUp_AcceptedOnlyWhenGapWithinTwoDelta(float gap, bool accepted)
    {
        // Δ = ε = 0.05 for greedy: raising the claim by Δ and lowering the argmax by Δ flips a gap below 2Δ.
        var observer = Observer([1], 0.05f, 0.02, SamplingParameters.Greedy);
        Feed(observer, 0, 1, [3f, 3f - gap, 0f, -1f]);
        Assert.Equal(accepted ? -1 : 0, observer.FirstSamplingFailure);
        Assert.Equal(accepted ? 1 : 0, observer.SlackUsed);
    }

    [Fact]
    public void Greedy_SlackDisabled_RejectsNearTie()
    {
        var observer = Observer([1], 0f, 0.02, SamplingParameters.Greedy);
        Feed(observer, 0, 1, [3f, 2.999f, 0f, -1f]);
        Assert.Equal(0, observer.FirstSamplingFailure);
    }

    [Fact]
    public void Greedy_SlackBudgetSpent_RejectsNextNearTie()
    {
        // 40 positions at 2% → one slack use allowed.
        int[] claimed = Enumerable.Repeat(1, 40).ToArray();
        var observer = Observer(claimed, 0.05f, 0.02, SamplingParameters.Greedy);
        Feed(observer, 0, 1, [3f, 2.99f, 0f, -1f]);
        Feed(observer, 1, 1, [3f, 2.99f, 0f, -1f]);
        Assert.Equal(1, observer.SlackUsed);
        Assert.Equal(1, observer.FirstSamplingFailure);
        Assert.Equal(0, observer.SampledAtFailure);
    }

    [Fact]
    public void Greedy_NearTiesAfterBudgetSpent_CountedOverBudgetNotUnexplained()
    {
        // 40 positions at 2% → one slack use; the next two near-ties are within the slack but over its budget.
        int[] claimed = Enumerable.Repeat(1, 40).ToArray();
        var observer = Observer(claimed, 0.05f, 0.02, SamplingParameters.Greedy);
        for (int i = 0; i < 3; i++)
        {
            Feed(observer, i, 1, [3f, 2.99f, 0f, -1f]);
        }

        Assert.Equal((1, 1, 2, -1), (observer.SlackUsed, observer.FirstSamplingFailure, observer.OverBudget, observer.FirstUnexplained));
    }

    [Fact]
    public void Greedy_FarTokenAfterBudgetSpent_FirstUnexplainedIsThatPosition()
    {
        int[] claimed = Enumerable.Repeat(1, 40).ToArray();
        var observer = Observer(claimed, 0.05f, 0.02, SamplingParameters.Greedy);
        Feed(observer, 0, 1, [3f, 2.99f, 0f, -1f]);
        Feed(observer, 1, 1, [3f, 2.99f, 0f, -1f]);
        Feed(observer, 2, 1, [3f, 3f, 0f, -1f]);
        Feed(observer, 3, 1, [3f, 1f, 0f, -1f]);
        Feed(observer, 4, 1, [3f, 1f, 0f, -1f]);
        Assert.Equal((1, 1, 2, 3), (observer.SlackUsed, observer.FirstSamplingFailure, observer.OverBudget, observer.FirstUnexplained));
    }

    [Fact]
    public void Sampled_ClaimOutsideTheNudgedChoice_Rejected()
    {
        var sampling = new SamplingParameters { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f };
        var observer = Observer([3], 0.05f, 1, sampling);
        Feed(observer, 0, 3, [5f, 4f, 3f, -8f]);
        Assert.Equal(0, observer.FirstSamplingFailure);
    }

    [Fact]
    public void Greedy_MinSlackPositionsTwo_AcceptsTwoNearTiesInAShortReceipt()
    {
        int[] claimed = Enumerable.Repeat(1, 25).ToArray();
        var observer = Observer(claimed, 0.05f, 0.02, SamplingParameters.Greedy, minPositions: 2);
        Feed(observer, 0, 1, [3f, 2.99f, 0f, -1f]);
        Feed(observer, 1, 1, [3f, 2.99f, 0f, -1f]);
        Feed(observer, 2, 1, [3f, 2.99f, 0f, -1f]);
        Assert.Equal(2, observer.SlackUsed);
        Assert.Equal(2, observer.FirstSamplingFailure);
    }

    [Fact]
    public void Sampled_TopPBoundaryMovedByRounding_AcceptedOnlyThroughCutoffSlack()
    {
        // Probabilities 0.5, 0.3, 0.1201, 0.0799 (node) vs 0.5, 0.3, 0.1199, 0.0801 (verifier): with top-p 0.92
        // the node keeps three candidates and the verifier four, which shifts the seeded draw for some seeds
        // although no logit moved by more than 0.002.
        var sampling = new SamplingParameters { Temperature = 1f, TopK = 0, TopP = 0.92f, MinP = 0f };
        float[] node = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.1201f), MathF.Log(0.0799f), -30f, -30f];
        float[] verifier = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.1199f), MathF.Log(0.0801f), -30f, -30f];
        var sampler = new PoIP.Inference.Sampling.TokenSampler(node.Length);
        ulong seed = 0;
        int claimed = -1;
        for (ulong s = 1; s < 10_000 && claimed < 0; s++)
        {
            int byNode = sampler.Sample(node, sampling, s, 0, [0, 5]);
            if (byNode != sampler.Sample(verifier, sampling, s, 0, [0, 5]))
            {
                (seed, claimed) = (s, byNode);
            }
        }

        Assert.True(claimed >= 0, "no seed where the boundary matters");
        var strict = Observer([claimed], 0f, 0.02, sampling, sampler: new PoIP.Inference.Sampling.TokenSampler(node.Length), seed: seed);
        Feed(strict, 0, claimed, verifier);
        Assert.Equal(0, strict.FirstSamplingFailure);
        var slack = Observer([claimed], 1e-6f, 0.02, sampling, sampler: new PoIP.Inference.Sampling.TokenSampler(node.Length), seed: seed);
        Feed(slack, 0, claimed, verifier);
        Assert.Equal(-1, slack.FirstSamplingFailure);
        Assert.Equal(1, slack.SlackUsed);
    }
}
