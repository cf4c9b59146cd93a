using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Core.Economics;

/// <summary>One request's escrow.</summary>
/// <param name="Request">The request it pays for.</param>
/// <param name="Client">Who locked the cap.</param>
/// <param name="Node">Who serves the request.</param>
/// <param name="PriceCap">The locked amount.</param>
/// <param name="OpenedAt">When it was opened (the dispute window counts from here).</param>
/// <param name="State">Where it stands.</param>
/// <param name="Price">The settled price (zero unless settled).</param>
public sealed record EscrowInfo(RequestId Request, PeerId Client, PeerId Node, TokenAmount PriceCap, DateTimeOffset OpenedAt, EscrowState State, TokenAmount Price)
{
    /// <summary>
    /// The first escrow of the same logical request that this one joined (a hedge or a retry), or null:
    /// of a group's escrows at most one is settled (<see cref="EconomicStatus.AlreadyPaid"/>).
    /// </summary>
    public RequestId? Group { get; init; }
}
