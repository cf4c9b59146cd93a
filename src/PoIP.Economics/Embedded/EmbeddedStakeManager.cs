using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded.Operations;
using PoIP.Economics.Parameters;
using PoIP.Economics.Slashing;

namespace PoIP.Economics.Embedded;

/// <summary>
/// The embedded economic back end: accounts, staking, escrow and slashing on one SQLite database
/// in WAL mode. Every state change is one journaled transaction, idempotent by its
/// <see cref="OperationId"/>; money is conserved (<see cref="GetTotalsAsync"/>); the journal
/// rebuilds the tables (<see cref="VerifyJournalAsync"/>). Thread-safe: writes are serialized.
/// Governance and public funding are on <see cref="Governance"/>.
/// </summary>
public sealed class EmbeddedStakeManager : IStakeManager, IValidatorAccountability, IDevFaucet, IDisposable
{
    private readonly LedgerEngine _engine;

    private EmbeddedStakeManager(LedgerEngine engine)
    {
        _engine = engine;
        Governance = new EmbeddedGovernance(engine);
    }

    /// <summary>Parameter and grant proposals, votes and execution.</summary>
    public EmbeddedGovernance Governance { get; }

    /// <summary>Opens the ledger at <see cref="EmbeddedEconomicsOptions.DatabasePath"/>, writing genesis when the database is new.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">The database cannot be opened.</exception>
    public static EmbeddedStakeManager Open(EmbeddedEconomicsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var genesis = new GenesisOperation(options.InitialParameters.ToValues(), options.RequireRegisteredValidator, options.Accountability);
        return new EmbeddedStakeManager(LedgerEngine.Open(options.DatabasePath, options.TimeProvider, options.SynchronousFull, genesis));
    }

    // ---- accounts ----

    /// <summary>Opens an empty account (refused with <see cref="EconomicStatus.NotAllowed"/> if it exists).</summary>
    public Task<EconomicResult> CreateAccountAsync(OperationId operation, PeerId account, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new CreateAccountOperation(account), cancellationToken);

    /// <summary>
    /// Deposits (mints) <paramref name="amount"/>: the embedded back end's explicit, journaled genesis
    /// or faucet operation. It raises the supply and opens the account if needed.
    /// </summary>
    public Task<EconomicResult> DepositAsync(OperationId operation, PeerId account, TokenAmount amount, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new MintOperation(account, amount), cancellationToken);

    /// <summary>Moves free balance to another existing account.</summary>
    public Task<EconomicResult> TransferAsync(OperationId operation, PeerId from, PeerId to, TokenAmount amount, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new TransferOperation(from, to, amount), cancellationToken);

    /// <summary>Withdraws free balance out of the ledger (lowers the supply).</summary>
    public Task<EconomicResult> WithdrawAsync(OperationId operation, PeerId account, TokenAmount amount, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new WithdrawOperation(account, amount), cancellationToken);

    /// <summary>Whether an operation with this id was applied.</summary>
    public Task<bool> WasAppliedAsync(OperationId operation, CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(l => l.Sql.Scalar("SELECT 1 FROM journal WHERE op_id = $p0", Blob.Of(operation.Value)) is not null, cancellationToken);

    /// <summary>The parameters in force.</summary>
    public Task<EconomicParameters> GetParametersAsync(CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(l => EconomicParameters.FromValues(l.Parameters()), cancellationToken);

    /// <summary>The public fund's balance.</summary>
    public Task<TokenAmount> GetPublicFundAsync(CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(l => l.Total(LedgerTransaction.Fund), cancellationToken);

    /// <summary>Replays the journal into a fresh in-memory ledger and compares every state table with this one.</summary>
    public Task<JournalVerification> VerifyJournalAsync(CancellationToken cancellationToken = default) => _engine.VerifyJournalAsync(cancellationToken);

    // ---- IStakeManager ----

    /// <inheritdoc />
    public Task<StakeInfo> GetStakeAsync(PeerId node, CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(
            l =>
            {
                var unbonding = TokenAmount.Zero;
                var withdrawable = TokenAmount.Zero;
                foreach (var tranche in l.Unbonding(node))
                {
                    if (tranche.ReleaseMs <= l.NowMs)
                    {
                        withdrawable += tranche.Amount;
                    }
                    else
                    {
                        unbonding += tranche.Amount;
                    }
                }

                return new StakeInfo(node, l.Bonded(node), unbonding, withdrawable);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<TokenAmount> GetBalanceAsync(PeerId account, CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(l => l.Balance(account) ?? TokenAmount.Zero, cancellationToken);

    /// <inheritdoc />
    public Task<EscrowInfo?> GetEscrowAsync(RequestId request, CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(l => l.Escrow(request), cancellationToken);

    /// <inheritdoc />
    public Task<EconomicTotals> GetTotalsAsync(CancellationToken cancellationToken = default) => _engine.TotalsAsync(cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> StakeAsync(OperationId operation, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new StakeOperation(node, amount), cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> RequestUnbondAsync(OperationId operation, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new RequestUnbondOperation(node, amount), cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> WithdrawUnbondedAsync(OperationId operation, PeerId node, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new WithdrawUnbondedOperation(node), cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> OpenEscrowAsync(OperationId operation, RequestId request, PeerId client, PeerId node, TokenAmount priceCap, RequestId? group = null, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new OpenEscrowOperation(request, client, node, priceCap, group), cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> SettleEscrowAsync(OperationId operation, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(receipt);
        return _engine.ExecuteAsync(operation, new SettleEscrowOperation(request.Envelope.Encoded, receipt.Envelope.Encoded), cancellationToken);
    }

    /// <inheritdoc />
    public Task<EconomicResult> RefundEscrowAsync(OperationId operation, RequestId request, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new RefundEscrowOperation(request), cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> SlashAsync(OperationId operation, SignedMessage<Evidence> evidence, PeerId challenger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        return _engine.ExecuteAsync(operation, new SlashOperation(evidence.Envelope.Encoded, challenger), cancellationToken);
    }

    /// <inheritdoc />
    public Task<EconomicResult> RegisterValidatorAsync(OperationId operation, PeerId validator, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new RegisterValidatorOperation(validator), cancellationToken);

    /// <inheritdoc />
    public Task<bool> IsValidatorAsync(PeerId peer, CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(l => l.IsValidator(peer), cancellationToken);

    /// <inheritdoc />
    public Task<bool> CanServeAsync(PeerId node, CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(l => l.Bonded(node) >= new TokenAmount(l.Parameter(EconomicParameter.MinimumStake)), cancellationToken);

    /// <inheritdoc />
    public Task<EconomicRules> GetRulesAsync(CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(
            l =>
            {
                var parameters = EconomicParameters.FromValues(l.Parameters());
                bool registered = l.Setting(GenesisOperation.RequireRegisteredValidatorSetting) != 0;
                return new EconomicRules(parameters.MinimumStake, parameters.DisputeWindow, parameters.UnbondingPeriod, parameters.ProtocolFeeBps, registered);
            },
            cancellationToken);

    // ---- IValidatorAccountability ----

    /// <inheritdoc />
    public Task<AccountabilityRules> GetAccountabilityRulesAsync(CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(DisputeCases.Rules, cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> SubmitVerdictAsync(OperationId operation, SignedMessage<Verdict> verdict, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(receipt);
        return _engine.ExecuteAsync(operation, new SubmitVerdictOperation(verdict.Envelope.Encoded, request.Envelope.Encoded, receipt.Envelope.Encoded), cancellationToken);
    }

    /// <inheritdoc />
    public Task<EconomicResult> AppealAsync(OperationId operation, SignedMessage<Appeal> appeal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(appeal);
        return _engine.ExecuteAsync(operation, new AppealOperation(appeal.Envelope.Encoded), cancellationToken);
    }

    /// <inheritdoc />
    public Task<EconomicResult> FinalizeCaseAsync(OperationId operation, ReceiptId receipt, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new FinalizeCaseOperation(receipt), cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> CommitPlantAsync(OperationId operation, PeerId planter, Sha256Digest commitment, CancellationToken cancellationToken = default) =>
        _engine.ExecuteAsync(operation, new CommitPlantOperation(planter, commitment), cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> RevealPlantAsync(OperationId operation, PeerId planter, ReadOnlyMemory<byte> salt, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, IReadOnlyList<SignedMessage<Verdict>> verdicts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(verdicts);
        return _engine.ExecuteAsync(operation, new RevealPlantOperation(planter, salt.ToArray(), request.Envelope.Encoded, receipt.Envelope.Encoded, verdicts.Select(v => v.Envelope.Encoded).ToList()), cancellationToken);
    }

    /// <inheritdoc />
    public Task<DisputeCase?> GetCaseAsync(ReceiptId receipt, CancellationToken cancellationToken = default) =>
        _engine.ReadAsync(
            l =>
            {
                if (DisputeTables.Case(l, receipt) is not { } row)
                {
                    return null;
                }

                var votes = DisputeTables.Votes(l, receipt);
                return new DisputeCase(
                    receipt,
                    row.Accused,
                    row.Request,
                    row.Opener,
                    row.State,
                    votes.Where(v => v.Outcome == VerdictOutcome.Fraud).Select(v => v.Validator).ToList(),
                    votes.Where(v => v.Outcome == VerdictOutcome.Valid).Select(v => v.Validator).ToList(),
                    DisputeTables.Panel(l, receipt),
                    row.DecidedMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(row.DecidedMs),
                    row.PlantedMs != 0);
            },
            cancellationToken);

    /// <summary>Closes the database.</summary>
    public void Dispose() => _engine.Dispose();
}
