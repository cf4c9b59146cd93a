using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded.Operations;
using PoIP.Economics.Governance;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded;

/// <summary>
/// Stake-weighted governance of the parameters and of the public fund. A proposal's id is the
/// <see cref="OperationId"/> that created it (<see cref="ProposalId.From"/>). Rules: only bonded
/// stake proposes and votes (weight = bonded stake when voting, once per voter); a proposal passes
/// with votes cast ≥ quorum × bonded stake at proposal time and yes ≥ threshold × votes cast; it
/// takes effect when executed after voting ends plus the timelock.
/// </summary>
public sealed class EmbeddedGovernance
{
    private readonly LedgerEngine _engine;

    internal EmbeddedGovernance(LedgerEngine engine) => _engine = engine;

    /// <summary>Proposes setting <paramref name="parameter"/> to <paramref name="value"/> (refused with InvalidAmount outside its range).</summary>
    public Task<EconomicResult> ProposeParameterChangeAsync(OperationId operation, PeerId proposer, EconomicParameter parameter, UInt128 value, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new ProposeOperation(ProposalKind.ParameterChange, proposer, parameter, value, default), cancellationToken);

    /// <summary>Proposes a grant of <paramref name="amount"/> from the public fund to <paramref name="recipient"/>.</summary>
    public Task<EconomicResult> ProposeGrantAsync(OperationId operation, PeerId proposer, PeerId recipient, TokenAmount amount, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new ProposeOperation(ProposalKind.Grant, proposer, default, amount.BaseUnits, recipient), cancellationToken);

    /// <summary>Votes the voter's bonded stake for or against a proposal.</summary>
    public Task<EconomicResult> VoteAsync(OperationId operation, ProposalId proposal, PeerId voter, bool support, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new VoteOperation(proposal, voter, support), cancellationToken);

    /// <summary>Tallies a proposal whose voting and timelock are over and applies it if it passed; the result's detail says executed or rejected.</summary>
    public Task<EconomicResult> ExecuteAsync(OperationId operation, ProposalId proposal, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new ExecuteProposalOperation(proposal), cancellationToken);

    /// <summary>A proposal, or null.</summary>
    public Task<ProposalInfo?> GetProposalAsync(ProposalId proposal, CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(l => l.Proposal(proposal), cancellationToken);
}
