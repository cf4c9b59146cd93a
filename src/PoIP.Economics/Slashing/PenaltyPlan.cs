using PoIP.Core.Money;

namespace PoIP.Economics.Slashing;

/// <summary>
/// Where one slash comes from and where it goes: <see cref="SlashSplit"/> of the accused's slashable
/// stake (bonded plus every unbonding tranche), taken from bonded stake first, then from the newest
/// tranches. Pure arithmetic: what is taken equals what is split (property-tested).
/// </summary>
/// <param name="Split">The total and its split.</param>
/// <param name="FromBonded">Taken from bonded stake.</param>
/// <param name="FromTranches">Taken from each tranche, in the order given (oldest first).</param>
internal sealed record PenaltyPlan(SlashSplit Split, TokenAmount FromBonded, TokenAmount[] FromTranches)
{
    public static PenaltyPlan Compute(TokenAmount bonded, IReadOnlyList<TokenAmount> tranches, ulong slashFractionBps, ulong challengerBps, ulong fundBps)
    {
        ArgumentNullException.ThrowIfNull(tranches);
        var slashable = tranches.Aggregate(bonded, (sum, t) => sum + t);
        var split = SlashSplit.Compute(slashable, slashFractionBps, challengerBps, fundBps);
        var left = split.Total;
        var fromBonded = left < bonded ? left : bonded;
        left -= fromBonded;
        var fromTranches = new TokenAmount[tranches.Count];
        for (int i = tranches.Count - 1; i >= 0 && !left.IsZero; i--)
        {
            fromTranches[i] = left < tranches[i] ? left : tranches[i];
            left -= fromTranches[i];
        }

        return new PenaltyPlan(split, fromBonded, fromTranches);
    }
}
