using PoIP.Core.Money;

namespace PoIP.Core.Economics;

/// <summary>
/// Where every base unit is. The conservation invariant is
/// <c>Supply == Balances + Bonded + Unbonding + Escrowed + PublicFund + Burned</c>.
/// </summary>
/// <param name="Supply">Everything ever minted (deposited) minus everything withdrawn out of the system.</param>
/// <param name="Balances">Sum of free balances.</param>
/// <param name="Bonded">Sum of bonded stake.</param>
/// <param name="Unbonding">Sum of stake in (or past) its unbonding period and not yet withdrawn.</param>
/// <param name="Escrowed">Sum of open escrows.</param>
/// <param name="PublicFund">The public fund.</param>
/// <param name="Burned">Destroyed by slashing.</param>
public sealed record EconomicTotals(
    TokenAmount Supply,
    TokenAmount Balances,
    TokenAmount Bonded,
    TokenAmount Unbonding,
    TokenAmount Escrowed,
    TokenAmount PublicFund,
    TokenAmount Burned)
{
    /// <summary>Sum of every place money can be (checked addition).</summary>
    public TokenAmount Accounted => Balances + Bonded + Unbonding + Escrowed + PublicFund + Burned;

    /// <summary>True when no base unit was created or lost.</summary>
    public bool IsConserved => Accounted == Supply;
}
