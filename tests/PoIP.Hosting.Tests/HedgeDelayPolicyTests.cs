using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PoIP.Hosting.Client;

namespace PoIP.Hosting.Tests;

public sealed class HedgeDelayPolicyTests
{
    private static readonly TimeSpan Min = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(2);

    private static HedgeDelayPolicy Adaptive() => new(hedging: true, fixedDelay: null, quantile: 0.95, Min, Max);

    [Fact]
    public void Current_FewerThanMinimumSamples_IsTheCap()
    {
        var policy = Adaptive();
        for (int i = 0; i < HedgeDelayPolicy.MinimumSamples - 1; i++)
        {
            policy.Observe(TimeSpan.FromMilliseconds(150));
        }

        Assert.Equal(Max, policy.Current);
        policy.Observe(TimeSpan.FromMilliseconds(150));
        Assert.Equal(TimeSpan.FromMilliseconds(150), policy.Current);
    }

    [Fact]
    public void Current_MeasuredTimes_IsTheirNinetyFifthPercentile()
    {
        var policy = Adaptive();
        for (int ms = 110; ms <= 300; ms += 10) // 20 samples: the 95th percentile (nearest rank 19) is 290 ms
        {
            policy.Observe(TimeSpan.FromMilliseconds(ms));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(290), policy.Current);
    }

    [Fact]
    public void Current_FastAndSlowTimes_FlooredAndCapped()
    {
        var fast = Adaptive();
        var slow = Adaptive();
        for (int i = 0; i < 20; i++)
        {
            fast.Observe(TimeSpan.FromMilliseconds(3));
            slow.Observe(TimeSpan.FromSeconds(9));
        }

        Assert.Equal(Min, fast.Current);
        Assert.Equal(Max, slow.Current);
    }

    [Fact]
    public void Current_OldTimesLeaveTheWindow()
    {
        var policy = Adaptive();
        for (int i = 0; i < HedgeDelayPolicy.Window; i++)
        {
            policy.Observe(TimeSpan.FromSeconds(1));
        }

        for (int i = 0; i < HedgeDelayPolicy.Window; i++)
        {
            policy.Observe(TimeSpan.FromMilliseconds(200));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(200), policy.Current);
    }

    [Fact]
    public void Current_OffOrFixed_NullOrTheFixedDelay()
    {
        var off = new HedgeDelayPolicy(hedging: false, TimeSpan.FromMilliseconds(500), 0.95, Min, Max);
        var fixedDelay = new HedgeDelayPolicy(hedging: true, TimeSpan.FromMilliseconds(500), 0.95, Min, Max);
        for (int i = 0; i < 20; i++)
        {
            off.Observe(TimeSpan.FromMilliseconds(150));
            fixedDelay.Observe(TimeSpan.FromMilliseconds(150));
        }

        Assert.Null(off.Current);
        Assert.Equal(TimeSpan.FromMilliseconds(500), fixedDelay.Current);
    }

    [Property]
    public Property Current_AnyTimes_WithinFloorAndCapAndNoLowerThanTheMedian(PositiveInt[] millis)
    {
        var policy = Adaptive();
        foreach (var ms in millis)
        {
            policy.Observe(TimeSpan.FromMilliseconds(ms.Get % 10_000));
        }

        var current = policy.Current!.Value;
        var window = millis.TakeLast(HedgeDelayPolicy.Window).Select(m => TimeSpan.FromMilliseconds(m.Get % 10_000)).Order().ToList();
        var median = window.Count == 0 ? TimeSpan.Zero : window[(window.Count - 1) / 2];
        bool bounded = current >= Min && current <= Max;
        bool aboveMedian = window.Count < HedgeDelayPolicy.MinimumSamples || current >= (median < Min ? Min : median > Max ? Max : median);
        return (bounded && aboveMedian).ToProperty();
    }
}
