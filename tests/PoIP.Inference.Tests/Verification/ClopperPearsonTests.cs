using FsCheck;
using FsCheck.Fluent;
using PoIP.Testing.Verification;

namespace PoIP.Inference.Tests.Verification;

public sealed class ClopperPearsonTests
{
    // Reference values: bisection on the exact binomial distribution function with Python's integer
    // binomial coefficients (math.comb), independent of this implementation's log-space sums; (1, 10)
    // is the textbook 0.394.
    [Theory]
    [InlineData(0, 588, 0.005081826385049559)]
    [InlineData(1, 10, 0.3941633024365049)]
    [InlineData(2, 20, 0.2826185248858609)]
    [InlineData(3, 1000, 0.007735244718479473)]
    [InlineData(0, 30000, 9.985275683338513e-05)]
    [InlineData(5, 50, 0.19883300251641853)]
    [InlineData(10, 100, 0.1637176232758148)]
    public void UpperBound_KnownValues_Match(long failures, long trials, double expected)
    {
        Assert.Equal(expected, ClopperPearson.UpperBound(failures, trials), expected * 1e-9);
    }

    [Fact]
    public void UpperBound_ZeroFailures_ThirtyThousandReceiptsNeededForOneInTenThousand()
    {
        // The goal: 0 false positives and a bound ≤ 1e-4 needs n ≥ 29,956.
        Assert.True(ClopperPearson.UpperBound(0, 29_956) <= 1e-4);
        Assert.True(ClopperPearson.UpperBound(0, 29_955) > 1e-4);
    }

    [Fact]
    public void UpperBound_EdgeCases_OneWhenNothingIsKnownOrAllFailed()
    {
        Assert.Equal(1.0, ClopperPearson.UpperBound(0, 0));
        Assert.Equal(1.0, ClopperPearson.UpperBound(7, 7));
    }

    [Theory]
    [InlineData(-1, 10, 0.95)]
    [InlineData(11, 10, 0.95)]
    [InlineData(0, -1, 0.95)]
    [InlineData(0, 10, 1.0)]
    [InlineData(0, 10, 0.0)]
    [InlineData(0, 10, double.NaN)]
    public void UpperBound_OutOfRange_Throws(long failures, long trials, double confidence)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClopperPearson.UpperBound(failures, trials, confidence));
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property UpperBound_MoreTrials_NeverLarger(NonNegativeInt failures, PositiveInt trials, PositiveInt more)
    {
        long x = failures.Get % 50, n = x + (trials.Get % 5000), m = n + 1 + (more.Get % 5000);
        return (ClopperPearson.UpperBound(x, m) <= ClopperPearson.UpperBound(x, n)).ToProperty();
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property UpperBound_MoreFailures_NeverSmallerAndAboveTheRate(NonNegativeInt failures, PositiveInt trials)
    {
        long n = 1 + (trials.Get % 5000), x = failures.Get % n;
        double bound = ClopperPearson.UpperBound(x, n), next = ClopperPearson.UpperBound(x + 1, n);
        return (next >= bound && bound >= (double)x / n && bound <= 1.0).ToProperty();
    }

    [FsCheck.Xunit.Property(MaxTest = 100)]
    public Property UpperBound_AtTheBound_DistributionFunctionIsAlpha(NonNegativeInt failures, PositiveInt trials)
    {
        long n = 2 + (trials.Get % 3000), x = failures.Get % (n - 1);
        double bound = ClopperPearson.UpperBound(x, n);
        return (Math.Abs(ClopperPearson.BinomialCdf(x, n, bound) - 0.05) < 1e-6).ToProperty();
    }
}
