using PoIP.Core.Money;

namespace PoIP.Economics.Slashing;

/// <summary>How a slash divides: challenger and public fund by basis points (rounded down), the rest burned. Never creates money.</summary>
/// <param name="Total">Taken from the accused.</param>
/// <param name="Challenger">Paid to the challenger.</param>
/// <param name="PublicFund">Paid to the public fund.</param>
/// <param name="Burned">Destroyed.</param>
internal readonly record struct SlashSplit(TokenAmount Total, TokenAmount Challenger, TokenAmount PublicFund, TokenAmount Burned)
{
    /// <summary>Computes the slash of <paramref name="slashable"/> stake and its split.</summary>
    public static SlashSplit Compute(TokenAmount slashable, ulong slashFractionBps, ulong challengerBps, ulong fundBps)
    {
        var total = slashable.MultiplyFraction(slashFractionBps, 10_000);
        if (total.IsZero)
        {
            // Dust stake: a proven offence still costs everything that is left.
            total = slashable;
        }

        var challenger = total.MultiplyFraction(challengerBps, 10_000);
        var fund = total.MultiplyFraction(fundBps, 10_000);
        return new SlashSplit(total, challenger, fund, total - challenger - fund);
    }
}
