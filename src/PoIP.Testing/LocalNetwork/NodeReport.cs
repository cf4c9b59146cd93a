using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Testing.LocalNetwork;

/// <summary>One node's standing at the end of a run.</summary>
/// <param name="Name">Display name.</param>
/// <param name="PeerId">The node's id.</param>
/// <param name="Cheats">True for the dishonest node.</param>
/// <param name="Served">Requests answered with a receipt.</param>
/// <param name="Audits">Receipts audited.</param>
/// <param name="Frauds">Fraud verdicts.</param>
/// <param name="Earned">Balance gained from settled payments.</param>
/// <param name="StakeBefore">Bonded stake at start.</param>
/// <param name="StakeAfter">Bonded + unbonding stake at the end.</param>
/// <param name="Reputation">The node's <c>ReputationBook</c> score (completed requests, passed audits, proven fraud).</param>
public sealed record NodeReport(string Name, PeerId PeerId, bool Cheats, int Served, int Audits, int Frauds, TokenAmount Earned, TokenAmount StakeBefore, TokenAmount StakeAfter, double Reputation);
