using PoIP.Inference.Verification;

namespace PoIP.Testing.Verification;

/// <summary>Settings of a <see cref="ValidatorSimulation"/>.</summary>
/// <param name="Economics">Audit cost and fee, slashes, quorum and panel.</param>
/// <param name="Validators">Number of validators.</param>
/// <param name="Lazy">How many of them answer "valid" without auditing.</param>
/// <param name="PlantRate">Probability that an audited receipt is a planted one, q.</param>
/// <param name="Rounds">Rounds; every validator judges one receipt per round.</param>
/// <param name="Coalition">Fraction of validators that lie together (for the appeal-panel draws).</param>
/// <param name="Seed">Seed of the simulation's PRNG.</param>
public sealed record ValidatorSimulationOptions(ValidatorEconomics Economics, int Validators, int Lazy, double PlantRate, int Rounds, double Coalition, ulong Seed = 1);

/// <summary>Outcome for one validator strategy.</summary>
/// <param name="Strategy"><c>honest</c> or <c>lazy</c>.</param>
/// <param name="Validators">Validators following it.</param>
/// <param name="Audits">Verdicts signed.</param>
/// <param name="Caught">Verdicts overturned (slashed).</param>
/// <param name="ExpectedProfitPerAudit">Expected profit per audit from <see cref="ValidatorEconomics"/>.</param>
/// <param name="RealisedProfitPerAudit">Realised mean profit per audit.</param>
public sealed record ValidatorStrategyResult(string Strategy, int Validators, long Audits, long Caught, double ExpectedProfitPerAudit, double RealisedProfitPerAudit);

/// <summary>What a validator simulation produced.</summary>
/// <param name="MinimalPlantRate">Break-even plant rate c_a / S_v.</param>
/// <param name="Honest">Honest validators.</param>
/// <param name="Lazy">Lazy validators.</param>
/// <param name="PlantCostTotal">What the plants cost.</param>
/// <param name="Lies">Lies simulated (one per round, judged by a drawn panel).</param>
/// <param name="LiesStood">Lies whose panel majority was the coalition's.</param>
/// <param name="LieGainPerLiar">Realised mean gain of one liar per lie.</param>
/// <param name="ExpectedLieGain">Expected gain of one liar per lie.</param>
public sealed record ValidatorSimulationReport(double MinimalPlantRate, ValidatorStrategyResult Honest, ValidatorStrategyResult Lazy, double PlantCostTotal, long Lies, long LiesStood, double LieGainPerLiar, double ExpectedLieGain)
{
    /// <summary>True when lazy validators realised less per audit than honest ones.</summary>
    public bool LazinessLoses => Lazy.Validators == 0 || Lazy.RealisedProfitPerAudit < Honest.RealisedProfitPerAudit;

    /// <summary>True when lying realised a loss.</summary>
    public bool LyingLoses => LieGainPerLiar < 0;
}

/// <summary>
/// Agent simulation of validators under planted receipts and appeals: every round every validator
/// judges one receipt, planted with probability q; an honest validator pays the audit cost, a lazy
/// one does not and is slashed when the receipt was planted. Each round the coalition also tells one
/// lie, which stands when a majority of a panel drawn from the validators belongs to the coalition.
/// Deterministic for a seed (the counter-based draws of <see cref="CheatingSimulation"/>, on streams of their own).
/// </summary>
public static class ValidatorSimulation
{
    /// <summary>Runs the simulation.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Counts, rate or coalition out of range.</exception>
    public static ValidatorSimulationReport Run(ValidatorSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var e = options.Economics;
        e.EnsureValid();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Validators, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Lazy);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Lazy, options.Validators);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Rounds);
        if (!double.IsFinite(options.PlantRate) || options.PlantRate is < 0 or > 1 || !double.IsFinite(options.Coalition) || options.Coalition is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "the plant rate and the coalition are in [0, 1].");
        }

        long honestAudits = 0, lazyAudits = 0, lazyCaught = 0, plants = 0, lies = 0, stood = 0;
        double honestProfit = 0, lazyProfit = 0, lieGain = 0;
        int majority = (e.PanelSize / 2) + 1;
        for (int round = 0; round < options.Rounds; round++)
        {
            for (int v = 0; v < options.Validators; v++)
            {
                bool planted = CheatingSimulation.Uniform(options.Seed, v, round, 2) < options.PlantRate;
                plants += planted ? 1 : 0;
                if (v >= options.Lazy)
                {
                    honestAudits++;
                    honestProfit += e.AuditFee - e.AuditCost;
                }
                else
                {
                    lazyAudits++;
                    lazyProfit += e.AuditFee - (planted ? e.ValidatorSlash : 0);
                    lazyCaught += planted ? 1 : 0;
                }
            }

            if (options.Coalition > 0)
            {
                lies++;
                int theirs = 0;
                for (int seat = 0; seat < e.PanelSize; seat++)
                {
                    theirs += CheatingSimulation.Uniform(options.Seed, int.MaxValue - seat, round, 3) < options.Coalition ? 1 : 0;
                }

                bool stands = theirs >= majority;
                stood += stands ? 1 : 0;
                lieGain += stands ? e.ChallengerShare * e.NodeSlash / e.Quorum : -e.ValidatorSlash;
            }
        }

        double q = options.PlantRate;
        var honest = new ValidatorStrategyResult("honest", options.Validators - options.Lazy, honestAudits, 0, e.ExpectedHonestProfit, honestAudits > 0 ? honestProfit / honestAudits : 0);
        var lazy = new ValidatorStrategyResult("lazy", options.Lazy, lazyAudits, lazyCaught, e.ExpectedLazyProfit(q), lazyAudits > 0 ? lazyProfit / lazyAudits : 0);
        double expectedLie = options.Coalition > 0 ? e.ExpectedLieGain(options.Coalition) : 0;
        return new ValidatorSimulationReport(e.MinimalPlantRate, honest, lazy, plants * e.PlantCost, lies, stood, lies > 0 ? lieGain / lies : 0, expectedLie);
    }
}
