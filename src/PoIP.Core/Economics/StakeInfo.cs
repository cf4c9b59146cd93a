using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Core.Economics;

/// <summary>A node's stake position.</summary>
/// <param name="Node">The node.</param>
/// <param name="Bonded">Stake at work (slashable, counts for serving).</param>
/// <param name="Unbonding">Stake waiting out the unbonding period (still slashable).</param>
/// <param name="Withdrawable">Unbonded stake whose period has elapsed.</param>
public sealed record StakeInfo(PeerId Node, TokenAmount Bonded, TokenAmount Unbonding, TokenAmount Withdrawable);
