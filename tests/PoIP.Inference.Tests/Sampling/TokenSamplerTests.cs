using FsCheck.Xunit;
using PoIP.Core.Protocol;
using PoIP.Inference.Sampling;

namespace PoIP.Inference.Tests.Sampling;

public sealed class TokenSamplerTests
{
    private static readonly SamplingParameters Plain = new() { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, RepetitionPenalty = 1f };

    private static float[] Logits(int seed, int size, float spread = 8f)
    {
        var random = new Random(seed);
        var logits = new float[size];
        for (int i = 0; i < size; i++)
        {
            logits[i] = (float)((random.NextDouble() * 2 - 1) * spread);
        }

        return logits;
    }

    private static int Size(int raw) => 2 + (Math.Abs(raw % 300));

    [Property(MaxTest = 200)]
    public bool Sample_Greedy_IsArgMaxWithLowestIndexOnTies(int seed, int rawSize, ulong rngSeed, int position)
    {
        int size = Size(rawSize);
        var logits = Logits(seed, size);

        // Introduce ties at the maximum now and then.
        if (seed % 3 == 0)
        {
            logits[size / 2] = logits.Max();
        }

        int expected = Array.IndexOf(logits, logits.Max());
        return new TokenSampler(size).Sample(logits, SamplingParameters.Greedy, rngSeed, Math.Abs(position), []) == expected;
    }

    [Property(MaxTest = 200)]
    public bool Sample_TopK_ChoosesAmongKBest(int seed, int rawSize, int rawK, ulong rngSeed, int position)
    {
        int size = Size(rawSize);
        int k = 1 + Math.Abs(rawK % size);
        var logits = Logits(seed, size);
        var best = logits.Select((v, i) => (v, i)).OrderByDescending(p => p.v).ThenBy(p => p.i).Take(k).Select(p => p.i).ToHashSet();
        var parameters = Plain with { TopK = k, Temperature = 2f };
        int token = new TokenSampler(size).Sample(logits, parameters, rngSeed, Math.Abs(position), []);
        return best.Contains(token);
    }

    [Property(MaxTest = 200)]
    public bool Sample_SameSeedAndPosition_SameTokenAcrossSamplers(int seed, int rawSize, ulong rngSeed, int position)
    {
        int size = Size(rawSize);
        var logits = Logits(seed, size, 3f);
        var parameters = new SamplingParameters { Temperature = 0.9f, TopK = 40, TopP = 0.9f, MinP = 0.02f, RepetitionPenalty = 1.2f };
        int[] history = [.. Enumerable.Range(0, 20).Select(i => (i * 7) % size)];
        var first = new TokenSampler(size);
        var second = new TokenSampler(size);

        // Another call in between must not change the result (no hidden state carried between calls).
        first.Sample(Logits(seed + 1, size), parameters, rngSeed + 1, 3, history);
        return first.Sample(logits, parameters, rngSeed, Math.Abs(position), history)
            == second.Sample(logits, parameters, rngSeed, Math.Abs(position), history);
    }

    [Property(MaxTest = 200)]
    public bool Sample_NeverChoosesZeroProbabilityToken(int seed, int rawSize, ulong rngSeed, int position)
    {
        int size = Size(rawSize);
        var logits = Logits(seed, size);

        // Half the vocabulary is masked out with -inf: those tokens have probability exactly zero.
        for (int i = 0; i < size; i += 2)
        {
            logits[i] = float.NegativeInfinity;
        }

        var parameters = new SamplingParameters { Temperature = 5f, TopK = 0, TopP = 1f, MinP = 0f, RepetitionPenalty = 1f };
        int token = new TokenSampler(size).Sample(logits, parameters, rngSeed, Math.Abs(position), []);
        return token % 2 == 1;
    }

    [Property(MaxTest = 200)]
    public bool Sample_MinP_NeverChoosesTokenBelowThreshold(int seed, int rawSize, ulong rngSeed, int position)
    {
        int size = Size(rawSize);
        var logits = Logits(seed, size);
        var parameters = Plain with { MinP = 0.2f };
        int token = new TokenSampler(size).Sample(logits, parameters, rngSeed, Math.Abs(position), []);

        // p(token)/p(max) = exp(logit - max) at temperature 1.
        return Math.Exp(logits[token] - logits.Max()) >= 0.2 * (1 - 1e-9);
    }

    [Property(MaxTest = 200)]
    public bool Sample_TopP_ChoosesInsideNucleus(int seed, int rawSize, ulong rngSeed, int position)
    {
        int size = Size(rawSize);
        var logits = Logits(seed, size);
        var parameters = Plain with { TopP = 0.5f };
        int token = new TokenSampler(size).Sample(logits, parameters, rngSeed, Math.Abs(position), []);
        double max = logits.Max();
        var probabilities = logits.Select(l => Math.Exp(l - max)).ToArray();
        double total = probabilities.Sum();

        // Mass strictly above the chosen token's probability must be below p (else the nucleus ended earlier).
        double above = probabilities.Where(p => p > probabilities[token]).Sum() / total;
        return above < 0.5 + 1e-9;
    }

    [Property(MaxTest = 100)]
    public bool Uniform_IsInUnitIntervalAndKeyedByPosition(ulong seed, int position)
    {
        int p = Math.Abs(position % 1_000_000);
        double u = SamplerRandom.Uniform(seed, p);
        return u is >= 0 and < 1 && u == SamplerRandom.Uniform(seed, p) && u != SamplerRandom.Uniform(seed, p + 1);
    }

    [Fact]
    public void Uniform_KnownValues_StableAcrossReleases()
    {
        // Pinned outputs of the documented construction (recomputed independently in Python from
        // docs/engine-standard.md): changing them would break every receipt ever issued.
        Assert.Equal(0x48218226FF3CD4BFUL, SamplerRandom.Bits(0, 0));
        Assert.Equal(0xD56FD4491D82A4DDUL, SamplerRandom.Bits(42, 7));
        Assert.Equal(0.8337376287941063, SamplerRandom.Uniform(42, 7));
    }

    [Fact]
    public void Sample_Temperature_FrequenciesFollowSoftmax()
    {
        float[] logits = [2f, 1f, 0f, -1f];
        var sampler = new TokenSampler(4);
        var counts = new int[4];
        for (int position = 0; position < 20_000; position++)
        {
            counts[sampler.Sample(logits, Plain, 99, position, [])]++;
        }

        double total = logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < 4; i++)
        {
            double expected = Math.Exp(logits[i]) / total;
            Assert.InRange(counts[i] / 20_000.0, expected - 0.015, expected + 0.015);
        }
    }

    [Fact]
    public void Sample_RepetitionPenalty_LowersRepeatedTokens()
    {
        float[] logits = [3f, 2.9f, -1f];
        var sampler = new TokenSampler(3);
        Assert.Equal(0, sampler.Sample(logits, SamplingParameters.Greedy, 1, 0, [0]));
        var penalised = SamplingParameters.Greedy with { RepetitionPenalty = 1.5f };
        Assert.Equal(1, sampler.Sample(logits, penalised, 1, 0, [0, 0, 0]));

        // Outside the window the penalty does not apply.
        var narrow = penalised with { RepetitionWindow = 1 };
        Assert.Equal(0, sampler.Sample(logits, narrow, 1, 0, [0, 2]));
    }

    [Fact]
    public void Sample_RepetitionPenalty_MakesNegativeLogitsMoreNegative()
    {
        float[] logits = [-1f, -1.2f];
        var penalised = SamplingParameters.Greedy with { RepetitionPenalty = 1.5f };
        Assert.Equal(1, new TokenSampler(2).Sample(logits, penalised, 1, 0, [0]));
    }

    [Fact]
    public void Sample_WrongLogitCount_Throws()
    {
        Assert.Throws<ArgumentException>(() => new TokenSampler(4).Sample(new float[3], SamplingParameters.Greedy, 1, 0, []));
    }

    [Fact]
    public void Sample_InvalidParameters_Throws()
    {
        Assert.Throws<ArgumentException>(() => new TokenSampler(4).Sample(new float[4], new SamplingParameters { TopP = 0f }, 1, 0, []));
    }

    [Fact]
    public void Sample_NaNLogits_NeverChosen()
    {
        float[] logits = [float.NaN, 0.5f, float.NaN, 0.1f];
        Assert.Equal(1, new TokenSampler(4).Sample(logits, SamplingParameters.Greedy, 1, 0, []));
        for (int position = 0; position < 200; position++)
        {
            int token = new TokenSampler(4).Sample(logits, Plain, 5, position, []);
            Assert.True(token is 1 or 3);
        }
    }

    [Fact]
    public void ExpNonPositive_MatchesMathExp()
    {
        for (double x = -700; x <= 0; x += 0.37)
        {
            double expected = Math.Exp(x);
            double actual = DeterministicMath.ExpNonPositive(x);
            Assert.True(Math.Abs(actual - expected) <= expected * 1e-15, $"exp({x}) = {actual}, Math.Exp gives {expected}");
        }

        Assert.Equal(1.0, DeterministicMath.ExpNonPositive(0));
        Assert.Equal(0.0, DeterministicMath.ExpNonPositive(-800));
    }
}
