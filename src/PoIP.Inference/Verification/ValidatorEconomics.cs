namespace PoIP.Inference.Verification;

/// <summary>
/// Validators held to account (docs/cheating.md, "Validators"). A validator is paid the audit fee r
/// per verdict and an honest audit costs it c_a. A lazy validator answers "valid" without auditing,
/// saving c_a, and is caught when the receipt was planted (probability q per audit): it then loses
/// S_v from its stake. Laziness loses in expectation when q·S_v &gt; c_a, i.e. q &gt; c_a / S_v.
/// A lying validator signs fraud on an honest receipt to collect the challenger share s_c of the
/// node's slash S_n; it needs Q such verdicts (the quorum), and the node appeals to a panel of P
/// validators drawn afresh: the lie stands only when a majority of the panel belongs to the liars'
/// coalition (a fraction β of the validators). Each of the Q liars expects
/// P_stand·s_c·S_n / Q − (1 − P_stand)·S_v.
/// </summary>
/// <param name="AuditCost">An honest audit's cost, c_a.</param>
/// <param name="AuditFee">What a validator is paid per verdict, r.</param>
/// <param name="ValidatorSlash">Stake a validator loses when its verdict is overturned, S_v.</param>
/// <param name="PlantCost">What one planted receipt costs the planters (its cheap generation plus the burned part of the planted node's slash).</param>
/// <param name="NodeSlash">A convicted node's slash, S_n.</param>
/// <param name="ChallengerShare">The opener's share of a node's slash, s_c in [0, 1].</param>
/// <param name="Quorum">Fraud verdicts needed to convict, Q ≥ 1.</param>
/// <param name="PanelSize">Validators drawn to judge an appeal, P ≥ 1.</param>
public sealed record ValidatorEconomics(double AuditCost, double AuditFee, double ValidatorSlash, double PlantCost, double NodeSlash, double ChallengerShare, int Quorum, int PanelSize)
{
    /// <summary>The plant rate q above which laziness loses: c_a / S_v (capped at 1).</summary>
    public double MinimalPlantRate
    {
        get
        {
            EnsureValid();
            return Math.Min(1.0, AuditCost / ValidatorSlash);
        }
    }

    /// <summary>Expected profit per audit of an honest validator, r − c_a.</summary>
    public double ExpectedHonestProfit => AuditFee - AuditCost;

    /// <summary>Expected profit per audit of a lazy validator at plant rate <paramref name="plantRate"/>, r − q·S_v.</summary>
    public double ExpectedLazyProfit(double plantRate) => AuditFee - (plantRate * ValidatorSlash);

    /// <summary>What planting costs per audit at rate <paramref name="plantRate"/>, q·k.</summary>
    public double PlantCostPerAudit(double plantRate) => plantRate * PlantCost;

    /// <summary>Probability that a majority of a panel of <see cref="PanelSize"/> drawn from validators of which a fraction <paramref name="coalition"/> lie is theirs.</summary>
    public double LieStandsProbability(double coalition)
    {
        EnsureValid();
        if (!double.IsFinite(coalition) || coalition is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(coalition), coalition, "The coalition is a fraction in [0, 1].");
        }

        int majority = (PanelSize / 2) + 1;
        double sum = 0;
        for (int j = majority; j <= PanelSize; j++)
        {
            sum += Binomial(PanelSize, j) * Math.Pow(coalition, j) * Math.Pow(1 - coalition, PanelSize - j);
        }

        return sum;
    }

    /// <summary>Expected gain of one liar per lie, P_stand·s_c·S_n / Q − (1 − P_stand)·S_v.</summary>
    public double ExpectedLieGain(double coalition)
    {
        double stands = LieStandsProbability(coalition);
        return (stands * ChallengerShare * NodeSlash / Quorum) - ((1 - stands) * ValidatorSlash);
    }

    /// <summary>The largest coalition fraction for which lying still loses in expectation (bisection to 1e-6).</summary>
    public double MaximalDeterredCoalition()
    {
        if (ExpectedLieGain(1.0) < 0)
        {
            return 1.0;
        }

        double low = 0, high = 1;
        while (high - low > 1e-6)
        {
            double mid = (low + high) / 2;
            if (ExpectedLieGain(mid) < 0)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    /// <summary>Throws when a figure is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A figure is negative or not finite, S_v is zero, s_c is above 1, or Q or P is below 1.</exception>
    public void EnsureValid()
    {
        foreach (double value in new[] { AuditCost, AuditFee, ValidatorSlash, PlantCost, NodeSlash, ChallengerShare })
        {
            if (!double.IsFinite(value) || value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(ValidatorEconomics), value, "Figures must be finite and non-negative.");
            }
        }

        if (ValidatorSlash <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ValidatorSlash), ValidatorSlash, "Without a validator slash nothing deters a lazy validator.");
        }

        if (ChallengerShare > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ChallengerShare), ChallengerShare, "The challenger share is a fraction in [0, 1].");
        }

        if (Quorum < 1 || PanelSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Quorum), Quorum, "Quorum and panel size are at least 1.");
        }
    }

    private static double Binomial(int n, int k)
    {
        double result = 1;
        for (int i = 1; i <= k; i++)
        {
            result = result * (n - k + i) / i;
        }

        return result;
    }
}
