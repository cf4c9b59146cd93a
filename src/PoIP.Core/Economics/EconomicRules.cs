using PoIP.Core.Money;

namespace PoIP.Core.Economics;

/// <summary>The rules in force on a ledger that hosts need to compose roles (whatever the back end).</summary>
/// <param name="MinimumStake">Bonded stake a node needs to serve (and a validator to register).</param>
/// <param name="DisputeWindow">How long after an escrow opens its receipt can be challenged; settlement only after it.</param>
/// <param name="UnbondingPeriod">How long unbonding stake waits (still slashable) before it can be withdrawn.</param>
/// <param name="ProtocolFeeBps">Share of each settled price paid to the public fund, in basis points.</param>
/// <param name="RequireRegisteredValidator">Whether only registered validators' fraud verdicts slash.</param>
public sealed record EconomicRules(TokenAmount MinimumStake, TimeSpan DisputeWindow, TimeSpan UnbondingPeriod, uint ProtocolFeeBps, bool RequireRegisteredValidator);
