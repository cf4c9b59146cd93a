using PoIP.Core.Money;

namespace PoIP.Testing.Economics;

/// <summary>The parameters a back end under test runs with (the contract tests compute expected amounts from them).</summary>
/// <param name="SlashFractionBps">Slash fraction, basis points.</param>
/// <param name="ChallengerShareBps">Challenger's share of a slash, basis points.</param>
/// <param name="PublicFundShareBps">Public fund's share of a slash, basis points.</param>
/// <param name="ProtocolFeeBps">Protocol fee on settled prices, basis points.</param>
/// <param name="DisputeWindow">Dispute window.</param>
/// <param name="UnbondingPeriod">Unbonding period.</param>
/// <param name="MinimumStake">Minimum stake to serve.</param>
public sealed record StakeManagerContractParameters(
    uint SlashFractionBps,
    uint ChallengerShareBps,
    uint PublicFundShareBps,
    uint ProtocolFeeBps,
    TimeSpan DisputeWindow,
    TimeSpan UnbondingPeriod,
    TokenAmount MinimumStake);
