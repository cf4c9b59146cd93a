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
/// anything moves and is used at most once; money moves only on signed proof (an escrow pays a node
/// only against its own signed receipt for the client's signed request); expected refusals are
/// <see cref="EconomicResult"/>s, faults are exceptions. Time comes from the back end's clock (an
/// injected <see cref="TimeProvider"/>, or the chain's block time).
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

    /// <summary>
    /// Locks the client's price cap for a request. A request may be sent to several nodes (a hedge, or
    /// a retry after a failure), each attempt with its own escrow: <paramref name="group"/> is null for
    /// the first attempt (and for a request sent once) and,
    /// for every later one, the request id of that first attempt's escrow (opened by the same client
    /// and itself in no group; else <see cref="EconomicStatus.NotAllowed"/>). Of a group's escrows at
    /// most one is ever settled: the first valid receipt presented is paid, a later one is refused
    /// with <see cref="EconomicStatus.AlreadyPaid"/>, and from then on the other escrows of the group
    /// may be refunded at once. Joining a group that was already paid is refused the same way.
    /// </summary>
    Task<EconomicResult> OpenEscrowAsync(OperationId operation, RequestId request, PeerId client, PeerId node, TokenAmount priceCap, RequestId? group = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Settles a request's escrow against the node's receipt: pays the node the receipt's price minus
    /// the protocol fee, the fund the fee, and refunds the rest of the cap to the client. Every check
    /// runs before anything moves, and a refusal changes nothing:
    /// both envelopes' signatures verify (<see cref="EconomicStatus.InvalidReceipt"/>); the escrow is the
    /// one of <paramref name="request"/> (its id is the request envelope's hash) and is open
    /// (<see cref="EconomicStatus.UnknownEscrow"/>); the request is signed by the escrow's client and
    /// the receipt by the escrow's node, names that node and answers that request id
    /// (<see cref="EconomicStatus.InvalidReceipt"/>); the receipt's price is at most the cap the client
    /// signed in the request and at most the escrowed cap (<see cref="EconomicStatus.InvalidAmount"/>);
    /// the dispute window has passed and no fraud was proven for the request
    /// (<see cref="EconomicStatus.NotAllowed"/>). An escrow settles at most once.
    /// </summary>
    Task<EconomicResult> SettleEscrowAsync(OperationId operation, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, CancellationToken cancellationToken = default);

    /// <summary>Returns the whole escrow to the client (fraud proven, another escrow of its group was paid, or the request was never served).</summary>
    Task<EconomicResult> RefundEscrowAsync(OperationId operation, RequestId request, CancellationToken cancellationToken = default);

    /// <summary>Verifies the evidence and slashes the accused; the challenger receives its share.</summary>
    Task<EconomicResult> SlashAsync(OperationId operation, SignedMessage<Evidence> evidence, PeerId challenger, CancellationToken cancellationToken = default);

    /// <summary>Registers a validator (it needs the minimum stake bonded); with <see cref="EconomicRules.RequireRegisteredValidator"/>, only registered validators' fraud verdicts slash.</summary>
    Task<EconomicResult> RegisterValidatorAsync(OperationId operation, PeerId validator, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="peer"/> is a registered validator.</summary>
    Task<bool> IsValidatorAsync(PeerId peer, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="node"/> may serve now (the back end's rule: bonded stake at least <see cref="EconomicRules.MinimumStake"/>).</summary>
    Task<bool> CanServeAsync(PeerId node, CancellationToken cancellationToken = default);

    /// <summary>The rules in force (minimum stake, dispute window, ...).</summary>
    Task<EconomicRules> GetRulesAsync(CancellationToken cancellationToken = default);
}
