using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Slashing;

/// <summary>Applies a <see cref="PenaltyPlan"/> to the ledger: takes the stake, pays the beneficiary and the fund, burns the rest.</summary>
internal static class Penalty
{
    /// <summary>Slashes <paramref name="accused"/> by the slash fraction; the challenger share goes to <paramref name="beneficiary"/> (to the fund when it has no account).</summary>
    public static SlashSplit Apply(LedgerTransaction ledger, PeerId accused, PeerId beneficiary)
    {
        var bonded = ledger.Bonded(accused);
        var tranches = ledger.Unbonding(accused);
        var plan = PenaltyPlan.Compute(
            bonded,
            tranches.Select(t => t.Amount).ToList(),
            ledger.ParameterU64(EconomicParameter.SlashFractionBps),
            ledger.ParameterU64(EconomicParameter.ChallengerShareBps),
            ledger.ParameterU64(EconomicParameter.PublicFundShareBps));
        if (!plan.FromBonded.IsZero)
        {
            ledger.SetBonded(accused, bonded - plan.FromBonded);
        }

        for (int i = 0; i < tranches.Count; i++)
        {
            if (!plan.FromTranches[i].IsZero)
            {
                ledger.SetUnbonding(tranches[i].Id, tranches[i].Amount - plan.FromTranches[i]);
            }
        }

        var split = plan.Split;
        if (ledger.Balance(beneficiary) is not null)
        {
            ledger.Credit(beneficiary, split.Challenger);
            ledger.AddTotal(LedgerTransaction.Fund, split.PublicFund);
        }
        else
        {
            ledger.AddTotal(LedgerTransaction.Fund, split.Challenger + split.PublicFund);
        }

        ledger.AddTotal(LedgerTransaction.Burned, split.Burned);
        return split;
    }

    /// <summary>Slashes a validator whose verdict was overturned; it loses its registration when its bonded stake falls below the minimum.</summary>
    public static SlashSplit ApplyToValidator(LedgerTransaction ledger, PeerId validator, PeerId beneficiary)
    {
        var split = Apply(ledger, validator, beneficiary);
        if (ledger.IsValidator(validator) && ledger.Bonded(validator) < new TokenAmount(ledger.Parameter(EconomicParameter.MinimumStake)))
        {
            ledger.RemoveValidator(validator);
        }

        return split;
    }
}
