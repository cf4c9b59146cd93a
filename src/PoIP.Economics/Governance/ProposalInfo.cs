using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Governance;

/// <summary>A proposal and its tally.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Kind">Parameter change or grant.</param>
/// <param name="Proposer">Who proposed it.</param>
/// <param name="Parameter">The parameter (parameter changes only).</param>
/// <param name="Value">The new value (parameter changes) or the grant amount in base units.</param>
/// <param name="Recipient">The grant's recipient (grants only).</param>
/// <param name="VotingEndsAt">When voting closes.</param>
/// <param name="ExecutableAt">When it can take effect (end of voting plus the timelock).</param>
/// <param name="QuorumBase">Total bonded stake when it was proposed (the quorum is a share of this).</param>
/// <param name="Yes">Stake voting yes.</param>
/// <param name="No">Stake voting no.</param>
/// <param name="State">Where it stands.</param>
public sealed record ProposalInfo(
    ProposalId Id,
    ProposalKind Kind,
    PeerId Proposer,
    EconomicParameter Parameter,
    UInt128 Value,
    PeerId Recipient,
    DateTimeOffset VotingEndsAt,
    DateTimeOffset ExecutableAt,
    TokenAmount QuorumBase,
    TokenAmount Yes,
    TokenAmount No,
    ProposalState State);
