using System.Collections.Concurrent;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Protocol;
using PoIP.Core.Proofs;
using PoIP.Economics.Reputation;
using PoIP.Network.AuditProtocol;
using PoIP.Network.Addressing;
using PoIP.Network.InferProtocol;

namespace PoIP.Hosting.Client;

/// <summary>
/// The client SDK: signs a request, escrows its price cap, asks one node over
/// <c>/poip/infer/1.0.0</c>, checks the receipt, and hands the transaction to a validator. When a
/// node fails, stalls or refuses, the request is re-signed (new nonce) for the next node; the failed
/// attempt's escrow has no receipt, so it can never be settled and returns to the client when the
/// ledger deems it abandoned: only the answer that was delivered is ever paid.
/// Each node has its own circuit breaker; attempts have a timeout (Polly).
/// </summary>
public sealed class PoIPClient
{
    private readonly PoIPClientOptions _options;
    private readonly ConcurrentDictionary<PeerId, ResiliencePipeline> _breakers = new();
    private readonly ConcurrentDictionary<PeerId, CircuitBreakerStateProvider> _breakerStates = new();
    private readonly ConcurrentQueue<RequestId> _escrows = new();
    private readonly NodeChooser _chooser;
    private readonly INodeDirectory _directory;
    private long _nonce;

    /// <summary>Creates the client.</summary>
    public PoIPClient(PoIPClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Directory is null && (options.Nodes.Count == 0 || options.Nodes.Any(n => n.PeerId is null)))
        {
            throw new ArgumentException("A node directory, or at least one node, each with a /p2p/<id> component, is required.", nameof(options));
        }

        _options = options;
        _directory = options.Directory ?? new StaticNodeDirectory(options.Nodes);
        Reputation = options.Reputation ?? new ReputationBook(timeProvider: options.TimeProvider);
        _chooser = new NodeChooser(options, Reputation);
        _nonce = options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() << 16;
    }

    /// <summary>
    /// What this client has seen of each node (completed requests, timeouts, audit verdicts from its
    /// validators); the competition policy routes by it.
    /// </summary>
    public ReputationBook Reputation { get; }

    /// <summary>Every request whose price cap this client escrowed (answered or not).</summary>
    public IReadOnlyCollection<RequestId> OpenedEscrows => [.. _escrows];

    /// <summary>
    /// Asks a question; returns a checked answer or throws <see cref="NodeFailedException"/> when no
    /// node answered. When <paramref name="onText"/> is given it receives each piece as it arrives;
    /// once a piece has reached it, a failing node ends the request (another node would repeat text
    /// already shown). A validator that cannot be reached does not lose the answer: it is returned
    /// with <see cref="ClientAnswer.AuditError"/> set and the audit pending.
    /// </summary>
    public Task<ClientAnswer> AskAsync(string prompt, AskOptions options, Action<string>? onText = null, CancellationToken cancellationToken = default) =>
        AskAsync(prompt, options, onText, onRequest: null, cancellationToken);

    /// <summary>The directory this client looks nodes up in.</summary>
    internal INodeDirectory Directory => _directory;

    /// <summary>The client's options (stakes, validators).</summary>
    internal PoIPClientOptions Options => _options;

    /// <summary>The latest smoothed time to first token per node.</summary>
    internal IReadOnlyDictionary<PeerId, TimeSpan> Latencies => _chooser.Latencies;

    /// <summary>Whether <paramref name="node"/>'s circuit is open (the node is skipped).</summary>
    internal bool IsBroken(PeerId node) => _breakerStates.TryGetValue(node, out var state) && state.CircuitState is CircuitState.Open or CircuitState.Isolated;

    /// <summary>As the public overload; <paramref name="onRequest"/> learns each attempt's signed request before it is sent.</summary>
    internal async Task<ClientAnswer> AskAsync(string prompt, AskOptions options, Action<string>? onText, Action<SignedMessage<InferenceRequest>, PeerId>? onRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        var nodes = (await _directory.FindNodesAsync(options.Model, cancellationToken).ConfigureAwait(false))
            .Where(l => l.Address.PeerId is not null).DistinctBy(l => l.Address.PeerId).ToList();
        int start = _chooser.StartRequest();
        int attempts = 0;
        bool delivered = false;
        Action<string>? deliver = onText is null ? null : piece =>
        {
            delivered = true;
            onText(piece);
        };
        var tried = new HashSet<PeerId>();
        var failures = new List<string>();
        var retry = new ResiliencePipelineBuilder<ClientAnswer>()
            .AddRetry(new RetryStrategyOptions<ClientAnswer>
            {
                MaxRetryAttempts = Math.Max(1, nodes.Count - 1), // Polly refuses 0; with one node the extra attempt finds no untried node and ends the request
                Delay = TimeSpan.Zero,
                ShouldHandle = args => ValueTask.FromResult(!delivered && args.Outcome.Exception is NodeAttemptException or BrokenCircuitException),
            })
            .Build();

        try
        {
            return await retry.ExecuteAsync(
                async ct =>
                {
                    attempts++;
                    var node = await _chooser.ChooseAsync(nodes, start, tried, options.PriceCap, options.MaxTokens, ct).ConfigureAwait(false)
                        ?? throw new NodeAttemptException(tried.Count == 0 ? "no node is eligible (stake or price)." : "no other eligible node.");
                    tried.Add(node.PeerId!.Value);
                    var breaker = _breakers.GetOrAdd(node.PeerId!.Value, CreateBreaker);
                    return await breaker.ExecuteAsync(async innerCt => await AttemptAsync(node, prompt, options, attempts, failures, deliver, onRequest, innerCt).ConfigureAwait(false), ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NodeAttemptException or BrokenCircuitException)
        {
            throw new NodeFailedException($"No node answered after {attempts} attempts: {string.Join("; ", failures)}", ex);
        }
    }

    private ResiliencePipeline CreateBreaker(PeerId node) => new ResiliencePipelineBuilder { TimeProvider = _options.TimeProvider }
        .AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            StateProvider = _breakerStates.GetOrAdd(node, _ => new CircuitBreakerStateProvider()),
            FailureRatio = 1.0,
            MinimumThroughput = Math.Max(2, _options.FailuresBeforeBreak),
            SamplingDuration = TimeSpan.FromMinutes(1),
            BreakDuration = _options.BreakDuration,
            ShouldHandle = new PredicateBuilder().Handle<NodeAttemptException>(),
        })
        .Build();

    private async Task<ClientAnswer> AttemptAsync(Multiaddr node, string prompt, AskOptions options, int attempt, List<string> failures, Action<string>? onText, Action<SignedMessage<InferenceRequest>, PeerId>? onRequest, CancellationToken cancellationToken)
    {
        var nodeId = node.PeerId!.Value;
        _chooser.Attempted(nodeId);
        byte[] promptBytes = System.Text.Encoding.UTF8.GetBytes(prompt);
        var request = SignedMessage.Create(_options.Key, InferenceRequest.ForPrompt(
            prompt, options.Model, _options.Key.PeerId, options.Sampling, options.Seed, options.MaxTokens, options.PriceCap,
            (ulong)Interlocked.Increment(ref _nonce), _options.TimeProvider.GetUtcNow().Add(_options.AttemptTimeout).AddMinutes(1)));
        var requestId = new RequestId(request.Hash);
        var escrow = await _options.Stakes.OpenEscrowAsync(OperationId.Derive("escrow-open", requestId.Digest.ToArray()), requestId, _options.Key.PeerId, nodeId, options.PriceCap, cancellationToken).ConfigureAwait(false);
        if (escrow.Status is EconomicStatus.InsufficientStake or EconomicStatus.UnknownAccount)
        {
            // The ledger will not let this node be paid (e.g. slashed below the minimum stake): skip it.
            failures.Add($"{nodeId}: not eligible ({escrow.Status}: {escrow.Detail})");
            throw new NodeAttemptException(escrow.Detail);
        }

        if (!escrow.IsApplied)
        {
            throw new InvalidOperationException($"Cannot escrow the price cap: {escrow.Status} {escrow.Detail}");
        }

        _escrows.Enqueue(requestId);
        onRequest?.Invoke(request, nodeId);

        InferenceOutcome outcome;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(_options.AttemptTimeout);
            long started = _options.TimeProvider.GetTimestamp();
            bool first = true;
            void OnToken(Core.Engine.GeneratedToken token)
            {
                if (first)
                {
                    first = false;
                    _chooser.ObserveLatency(nodeId, _options.TimeProvider.GetElapsedTime(started));
                }

                onText?.Invoke(token.Piece);
            }

            try
            {
                var stream = await _options.Host.OpenStreamAsync(node, InferenceService.ProtocolId, timeout.Token).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    try
                    {
                        outcome = await InferenceClient.InvokeAsync(stream, request, promptBytes, nodeId, OnToken, timeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        // Abort, not close: the node's next token write fails and it stops generating
                        // (a graceful close would let it run to max_tokens for nobody).
                        stream.Reset();
                        throw;
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                outcome = new InferenceOutcome(InferenceOutcomeStatus.Interrupted, ex.Message, 0, null, [], string.Empty);
            }
        }

        if (outcome.Status != InferenceOutcomeStatus.Completed)
        {
            // The escrow stays locked: the ledger refunds it once abandoned (twice the dispute window)
            // or on proven fraud. No receipt exists for it, so it can never be settled: no double charge.
            failures.Add($"{nodeId}: {outcome.Status} {outcome.Detail}");
            Reputation.Record(nodeId, ReputationEvent.Timeout);
            throw new NodeAttemptException(outcome.Detail);
        }

        Reputation.Record(nodeId, ReputationEvent.RequestCompleted);

        AuditReply? audit = null;
        string? auditError = null;
        if (_options.Validators.Count > 0)
        {
            var validator = _options.Validators[attempt % _options.Validators.Count];
            try
            {
                var stream = await _options.Host.OpenStreamAsync(validator, AuditWire.ProtocolId, cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    audit = await AuditWire.SubmitAsync(stream, request.Envelope.Encoded, promptBytes, outcome.Receipt!.Envelope.Encoded, outcome.OutputTokens, cancellationToken).ConfigureAwait(false);
                }

                RecordVerdict(audit, validator.PeerId!.Value, new ReceiptId(outcome.Receipt.Hash), nodeId);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The answer was delivered and its receipt checked: a validator outage must not lose it.
                // The transaction stays unaudited (pending); the caller can hand it to a validator later.
                audit = null;
                auditError = $"validator {validator.PeerId}: {ex.Message}";
            }
        }

        var recorded = await RecordAsync(request, outcome.Receipt!, cancellationToken).ConfigureAwait(false);
        return new ClientAnswer(outcome.Text, outcome.OutputTokens, nodeId, request, outcome.Receipt!, attempt, audit, [.. failures], auditError, recorded);
    }

    /// <summary>
    /// Puts the client's own transaction record (its signed request and the receipt it accepted) into the
    /// transaction ledger, when one is configured. A ledger fault does not lose the answer: it is reported as a
    /// rejected put.
    /// </summary>
    private async Task<LedgerPutResult?> RecordAsync(SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, CancellationToken cancellationToken)
    {
        if (_options.Ledger is null)
        {
            return null;
        }

        var record = SignedMessage.Create(_options.Key, new TransactionRecord
        {
            RequestId = new RequestId(request.Hash),
            RequestEnvelope = request.Envelope.Encoded,
            ReceiptEnvelope = receipt.Envelope.Encoded,
            Role = TransactionRole.Client,
            RecordedAt = _options.TimeProvider.GetUtcNow(),
        });
        try
        {
            return await _options.Ledger.PutAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new LedgerPutResult(LedgerPutStatus.Rejected, Detail: "the transaction ledger failed: " + ex.Message);
        }
    }

    /// <summary>
    /// Folds a validator's verdict into the node's reputation, only when it is signed by the validator
    /// asked and concerns this request and node (a forged or misdirected verdict changes nothing).
    /// </summary>
    private void RecordVerdict(AuditReply audit, PeerId validator, ReceiptId receipt, PeerId node)
    {
        if (!audit.Selected || audit.VerdictEnvelope.IsEmpty)
        {
            return;
        }

        SignedMessage<Verdict> verdict;
        try
        {
            verdict = SignedMessage.Open<Verdict>(audit.VerdictEnvelope);
        }
        catch (Exception ex) when (ex is Core.Errors.PoIPDecodeException or Core.Errors.SignatureException)
        {
            return;
        }

        if (verdict.Signer != validator || verdict.Message.ReceiptId != receipt || verdict.Message.NodeId != node)
        {
            return;
        }

        Reputation.Record(node, verdict.Message.Outcome == VerdictOutcome.Fraud ? ReputationEvent.FraudProven : ReputationEvent.AuditPassed);
    }

    /// <summary>One node failed one attempt (counted by that node's circuit breaker).</summary>
    private sealed class NodeAttemptException(string message) : Exception(message);
}
