using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;

namespace PoIP.Core.Economics;

/// <summary>
/// The economic layer's core: stake, escrow and slashing. Contract, for every back end (embedded
/// SQLite, EVM): money is conserved; each operation is atomic and idempotent by its
/// <see cref="OperationId"/>; evidence is verified (signatures, that it concerns the accused) before
/// anything moves and is used at most once; expected refusals are <see cref="EconomicResult"/>s,
/// faults are exceptions. Time comes from an injected <see cref="TimeProvider"/>.
/// </summary>
public interface IStakeManager
{
    /// <summary>A node's stake position (zeros for an unknown node).</summary>
    Task<StakeInfo> GetStakeAsync(PeerId node, CancellationToken cancellationToken = default);

    /// <summary>An account's free balance (zero for an unknown account).</summary>
    Task<TokenAmount> GetBalanceAsync(PeerId account, CancellationToken cancellationToken = default);

    /// <summary>A request's escrow, or null when none was opened.</summary>
    Task<EscrowInfo?> GetEscrowAsync(RequestId request, CancellationToken cancellationToken = default);

    /// <summary>Where every base unit is (for the conservation invariant and audits).</summary>
    Task<EconomicTotals> GetTotalsAsync(CancellationToken cancellationToken = default);

    /// <summary>Moves free balance into bonded stake.</summary>
    Task<EconomicResult> StakeAsync(OperationId operation, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default);

    /// <summary>Starts unbonding; the amount becomes withdrawable after the unbonding period and stays slashable until then.</summary>
    Task<EconomicResult> RequestUnbondAsync(OperationId operation, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default);

    /// <summary>Returns every unbonded amount whose period has elapsed to the free balance.</summary>
    Task<EconomicResult> WithdrawUnbondedAsync(OperationId operation, PeerId node, CancellationToken cancellationToken = default);

    /// <summary>Locks the client's price cap for a request.</summary>
    Task<EconomicResult> OpenEscrowAsync(OperationId operation, RequestId request, PeerId client, PeerId node, TokenAmount priceCap, CancellationToken cancellationToken = default);

    /// <summary>After the dispute window: pays the node the price minus the protocol fee and refunds the rest of the cap.</summary>
    Task<EconomicResult> SettleEscrowAsync(OperationId operation, RequestId request, TokenAmount price, CancellationToken cancellationToken = default);

    /// <summary>Returns the whole escrow to the client (fraud proven, or the request was never served).</summary>
    Task<EconomicResult> RefundEscrowAsync(OperationId operation, RequestId request, CancellationToken cancellationToken = default);

    /// <summary>Verifies the evidence and slashes the accused; the challenger receives its share.</summary>
    Task<EconomicResult> SlashAsync(OperationId operation, SignedMessage<Evidence> evidence, PeerId challenger, CancellationToken cancellationToken = default);
}
