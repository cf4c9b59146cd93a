using PoIP.Inference.Verification;
using PoIP.Testing.Verification;

namespace PoIP.Inference.Tests.Verification;

public sealed class ValidatorEconomicsTests
{
    // An audit costs 0.05 (fee units), a verdict is paid 0.1, an overturned validator loses 50; a plant
    // costs 25; a node's slash is 100 of which the opener gets 20 %; quorum 2, panel 3.
    private static readonly ValidatorEconomics Economics = new(AuditCost: 0.05, AuditFee: 0.1, ValidatorSlash: 50, PlantCost: 25, NodeSlash: 100, ChallengerShare: 0.2, Quorum: 2, PanelSize: 3);

    [Fact]
    public void MinimalPlantRate_IsTheBreakEven()
    {
        double q = Economics.MinimalPlantRate;

        Assert.Equal(0.001, q, 12);
        Assert.Equal(Economics.ExpectedHonestProfit, Economics.ExpectedLazyProfit(q), 12);
        Assert.True(Economics.ExpectedLazyProfit(q * 1.01) < Economics.ExpectedHonestProfit);
        Assert.True(Economics.ExpectedLazyProfit(q * 0.99) > Economics.ExpectedHonestProfit);
        Assert.Equal(1.0, (Economics with { ValidatorSlash = 0.01 }).MinimalPlantRate);
        Assert.Throws<ArgumentOutOfRangeException>(() => (Economics with { ValidatorSlash = 0 }).MinimalPlantRate);
    }

    [Fact]
    public void Simulation_AboveBreakEvenPlantRate_LazinessLoses()
    {
        // Gap 0.025 per audit; the lazy mean's standard deviation is 50·sqrt(q(1−q)/n) ≈ 0.0031 at 400,000 audits: 8 sd.
        var report = ValidatorSimulation.Run(new ValidatorSimulationOptions(Economics, Validators: 40, Lazy: 20, PlantRate: Economics.MinimalPlantRate * 1.5, Rounds: 20_000, Coalition: 0, Seed: 3));

        Assert.True(report.LazinessLoses, report.ToString());
        Assert.True(report.Lazy.Caught > 0);
        Assert.Equal(0.05, report.Honest.RealisedProfitPerAudit, 9);
        Assert.InRange(report.Lazy.RealisedProfitPerAudit, 0.025 - 0.0125, 0.025 + 0.0125);
    }

    [Fact]
    public void Simulation_WellBelowBreakEvenPlantRate_LazinessWins()
    {
        var report = ValidatorSimulation.Run(new ValidatorSimulationOptions(Economics, Validators: 40, Lazy: 20, PlantRate: Economics.MinimalPlantRate / 4, Rounds: 20_000, Coalition: 0, Seed: 3));

        Assert.False(report.LazinessLoses, report.ToString());
    }

    [Fact]
    public void LieStandsProbability_IsTheBinomialMajorityOfThePanel()
    {
        Assert.Equal((3 * 0.04 * 0.8) + 0.008, Economics.LieStandsProbability(0.2), 12);
        Assert.Equal(0.0, Economics.LieStandsProbability(0), 12);
        Assert.Equal(1.0, Economics.LieStandsProbability(1), 12);
        Assert.Equal(0.2, (Economics with { PanelSize = 1 }).LieStandsProbability(0.2), 12);

        // Drawn panels stand at that rate: 20,000 lies, sd ≈ 0.0022.
        var report = ValidatorSimulation.Run(new ValidatorSimulationOptions(Economics, Validators: 1, Lazy: 0, PlantRate: 0, Rounds: 20_000, Coalition: 0.2, Seed: 5));
        Assert.InRange(report.LiesStood / (double)report.Lies, 0.104 - 0.011, 0.104 + 0.011);
        Assert.True(report.LyingLoses);
    }

    [Fact]
    public void MaximalDeterredCoalition_IsWhereTheLieGainChangesSign()
    {
        double beta = Economics.MaximalDeterredCoalition();

        Assert.InRange(beta, 0.5, 0.99);
        Assert.True(Economics.ExpectedLieGain(beta - 0.001) < 0);
        Assert.True(Economics.ExpectedLieGain(Math.Min(1, beta + 0.001)) > 0);

        // A large enough bounty (node slash x challenger share) makes even a 20 % coalition's lies pay: S_v must be sized against it.
        Assert.True((Economics with { NodeSlash = 10_000 }).ExpectedLieGain(0.2) > 0);
    }
}
