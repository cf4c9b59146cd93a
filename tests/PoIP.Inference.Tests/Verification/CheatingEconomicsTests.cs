using PoIP.Inference.Verification;
using PoIP.Testing.Verification;

namespace PoIP.Inference.Tests.Verification;

public sealed class CheatingEconomicsTests
{
    // A fee of 1, honest compute 0.6, a cheap model costs a tenth of that, slash 100 (e.g. 10% of a
    // stake of 1000 fees), audits detect 95%.
    private static readonly CheatingEconomics Economics = new(Fee: 1.0, HonestCost: 0.6, CheatCost: 0.06, Slash: 100, DetectionRate: 0.95);

    [Fact]
    public void MinimalAuditProbability_IsTheBreakEven()
    {
        double p = Economics.MinimalAuditProbability;
        Assert.Equal(0.54 / (0.95 * 101), p, 12);
        Assert.Equal(Economics.ExpectedHonestProfit, Economics.ExpectedCheaterProfit(p), 9);
        Assert.True(Economics.ExpectedCheaterProfit(p * 1.01) < Economics.ExpectedHonestProfit);
        Assert.True(Economics.ExpectedCheaterProfit(p * 0.99) > Economics.ExpectedHonestProfit);
        // The form: p·d·S > (1 − p·d)·G at any p above the break-even.
        double q = p * 1.01 * Economics.DetectionRate;
        Assert.True(q * Economics.Penalty > (1 - q) * Economics.Gain);
    }

    [Fact]
    public void RecommendedAuditProbability_AppliesMarginAndCaps()
    {
        Assert.Equal(Economics.MinimalAuditProbability * 2, Economics.RecommendedAuditProbability(2), 12);
        Assert.Equal(1.0, (Economics with { Slash = 0, Fee = 0.01 }).RecommendedAuditProbability(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Economics.RecommendedAuditProbability(0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => (Economics with { DetectionRate = 0 }).MinimalAuditProbability);
        Assert.Throws<ArgumentOutOfRangeException>(() => (Economics with { CheatCost = 1 }).MinimalAuditProbability);
    }

    [Fact]
    public void Simulation_AtRecommendedP_CheatingLoses()
    {
        double p = Economics.RecommendedAuditProbability(1.5);
        var report = CheatingSimulation.Run(new CheatingSimulationOptions(Economics, Nodes: 20, Cheaters: 10, AuditProbability: p, Rounds: 5000, Seed: 7));
        Assert.True(report.CheatingLoses, report.ToString());
        Assert.True(report.Cheat.Caught > 0);
        Assert.Equal(Economics.ExpectedHonestProfit, report.Honest.RealisedProfitPerJob, 9);
        Assert.InRange(report.Cheat.RealisedProfitPerJob, report.Cheat.ExpectedProfitPerJob - 0.2, report.Cheat.ExpectedProfitPerJob + 0.2);
    }

    [Fact]
    public void Simulation_WellBelowBreakEven_CheatingWins()
    {
        double p = Economics.MinimalAuditProbability / 4;
        var report = CheatingSimulation.Run(new CheatingSimulationOptions(Economics, Nodes: 20, Cheaters: 10, AuditProbability: p, Rounds: 5000, Seed: 7));
        Assert.False(report.CheatingLoses, report.ToString());
        Assert.True(report.Cheat.RealisedProfitPerJob > report.Honest.RealisedProfitPerJob + 0.2);
    }

    [Fact]
    public void Simulation_AuditRate_CloseToP()
    {
        var report = CheatingSimulation.Run(new CheatingSimulationOptions(Economics, 10, 5, 0.1, 4000, 3));
        long jobs = report.Honest.Jobs + report.Cheat.Jobs, audits = report.Honest.Audits + report.Cheat.Audits;
        Assert.InRange(audits / (double)jobs, 0.095, 0.105);
        Assert.InRange(report.Cheat.Caught / (double)report.Cheat.Audits, 0.92, 0.98);
    }

    [Fact]
    public void Simulation_SameSeed_SameResult()
    {
        var options = new CheatingSimulationOptions(Economics, 5, 2, 0.05, 300, 11);
        Assert.Equal(CheatingSimulation.Run(options), CheatingSimulation.Run(options));
    }
}
