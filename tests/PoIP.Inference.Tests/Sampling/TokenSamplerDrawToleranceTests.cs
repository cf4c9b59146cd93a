using PoIP.Core.Protocol;
using PoIP.Inference.Sampling;

namespace PoIP.Inference.Tests.Sampling;

public sealed class TokenSamplerDrawToleranceTests
{
    private static readonly SamplingParameters Flat = new() { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f };

    [Fact]
    public void IsNearDraw_SampledToken_TrueAtZeroTolerance()
    {
        var sampler = new TokenSampler(64);
        float[] logits = [.. Enumerable.Range(0, 64).Select(i => (float)Math.Sin(i))];
        for (ulong seed = 1; seed <= 50; seed++)
        {
            int sampled = sampler.Sample(logits, Flat, seed, 3, [1]);
            Assert.True(sampler.IsNearDraw(logits, Flat, seed, 3, [1], sampled, 0));
        }
    }

    [Fact]
    public void IsNearDraw_NeighbourInIdOrder_OnlyWithinTolerance()
    {
        // 64 equal candidates: each interval is 1/64 of the mass; a neighbour's interval is at most 1/64 away.
        var sampler = new TokenSampler(64);
        float[] logits = new float[64];
        int sampled = sampler.Sample(logits, Flat, 7, 0, [1]);
        int neighbour = sampled == 0 ? 1 : sampled - 1;
        int far = (sampled + 32) % 64;
        Assert.False(sampler.IsNearDraw(logits, Flat, 7, 0, [1], neighbour, 0));
        Assert.True(sampler.IsNearDraw(logits, Flat, 7, 0, [1], neighbour, 1.0 / 64));
        Assert.False(sampler.IsNearDraw(logits, Flat, 7, 0, [1], far, 0.1));
    }

    [Fact]
    public void IsNearDraw_GreedyOrOutsideCandidates_False()
    {
        var sampler = new TokenSampler(8);
        float[] logits = [5f, 4f, 3f, 2f, 1f, 0f, -1f, -2f];
        Assert.False(sampler.IsNearDraw(logits, SamplingParameters.Greedy, 1, 0, [1], 0, 1.0));
        Assert.False(sampler.IsNearDraw(logits, Flat with { TopK = 2 }, 1, 0, [1], 7, 1.0));
    }
}
