using PoIP.Core.Money;

namespace PoIP.Economics.Embedded;

/// <summary>One unbonding tranche: slashable until withdrawn, withdrawable from <paramref name="ReleaseMs"/>.</summary>
internal readonly record struct UnbondingEntry(long Id, TokenAmount Amount, long ReleaseMs);
