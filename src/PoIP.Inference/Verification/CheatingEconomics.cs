namespace PoIP.Inference.Verification;

/// <summary>
/// The audit probability that makes cheating unprofitable (docs/cheating.md). Per job a node earns
/// the fee F and pays the compute cost: C_h honestly, C_c when it cheats (e.g. decodes with a cheap
/// model), so cheating gains G = C_h − C_c when unnoticed. A job is audited with probability p and an
/// audit detects the cheat with probability d; a caught cheater has its fee refunded to the client
/// and loses the slash S_slash from its stake. Relative to an honest node, a caught cheater is
/// therefore down S = F − G + S_slash, and cheating loses in expectation when
/// p·d·S &gt; (1 − p·d)·G, i.e. p &gt; G / (d·(S + G)) = G / (d·(F + S_slash)).
/// </summary>
/// <param name="Fee">Fee per job, F.</param>
/// <param name="HonestCost">Compute cost of an honest job, C_h.</param>
/// <param name="CheatCost">Compute cost of a cheating job, C_c (≤ C_h).</param>
/// <param name="Slash">Stake slashed per detected cheat, S_slash.</param>
/// <param name="DetectionRate">Probability that an audit of a cheating job finds it, d in (0, 1].</param>
public sealed record CheatingEconomics(double Fee, double HonestCost, double CheatCost, double Slash, double DetectionRate)
{
    /// <summary>Gain of one undetected cheat, G = C_h − C_c.</summary>
    public double Gain => HonestCost - CheatCost;

    /// <summary>What a caught cheater loses relative to an honest node on that job, S = F − G + S_slash.</summary>
    public double Penalty => Fee - Gain + Slash;

    /// <summary>The break-even audit probability G / (d·(S + G)); above it cheating loses in expectation.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A figure is out of range.</exception>
    public double MinimalAuditProbability
    {
        get
        {
            EnsureValid();
            return Math.Min(1.0, Gain / (DetectionRate * (Penalty + Gain)));
        }
    }

    /// <summary>The break-even probability times <paramref name="safetyMargin"/> (≥ 1), capped at 1.</summary>
    public double RecommendedAuditProbability(double safetyMargin = 1.5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(safetyMargin, 1.0);
        return Math.Min(1.0, MinimalAuditProbability * safetyMargin);
    }

    /// <summary>Expected profit per job of an honest node, F − C_h.</summary>
    public double ExpectedHonestProfit => Fee - HonestCost;

    /// <summary>Expected profit per job of a node that always cheats, F − C_c − p·d·(F + S_slash).</summary>
    public double ExpectedCheaterProfit(double auditProbability) => Fee - CheatCost - (auditProbability * DetectionRate * (Fee + Slash));

    /// <summary>Throws when a figure is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A figure is negative or not finite, C_c &gt; C_h, or d is not in (0, 1].</exception>
    public void EnsureValid()
    {
        foreach (double value in new[] { Fee, HonestCost, CheatCost, Slash, DetectionRate })
        {
            if (!double.IsFinite(value) || value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(CheatingEconomics), value, "Figures must be finite and non-negative.");
            }
        }

        if (CheatCost > HonestCost)
        {
            throw new ArgumentOutOfRangeException(nameof(CheatCost), CheatCost, "Cheating must not cost more than honest work.");
        }

        if (DetectionRate is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DetectionRate), DetectionRate, "The detection rate is in (0, 1].");
        }

        if (Fee + Slash <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Slash), Slash, "Fee plus slash must be positive.");
        }
    }
}
