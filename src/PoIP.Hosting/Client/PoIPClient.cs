using System.Collections.Concurrent;
using Polly;
using Polly.CircuitBreaker;
using Polly.Hedging;
using Polly.Retry;
using PoIP.Core.Economics;
using PoIP.Core.Engine;
using PoIP.Core.Money;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Protocol;
using PoIP.Core.Proofs;
using PoIP.Economics.Reputation;
using PoIP.Inference.Diagnostics;
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
    // One circuit breaker per node, built once: ConcurrentDictionary.GetOrAdd may run its factory on several threads
    // for one key, and a CircuitBreakerStateProvider can belong to only one breaker (Polly throws on the second).
    private readonly ConcurrentDictionary<PeerId, Lazy<NodeBreaker>> _breakers = new();
    private readonly ConcurrentQueue<RequestId> _escrows = new();
    private readonly EscrowReclaims _reclaims;
    private readonly ConcurrentDictionary<PeerId, NodeDiagnosis> _diagnoses = new();
    private readonly NodeChooser _chooser;
    private readonly HedgeDelayPolicy _hedgeDelay;
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

        if (options.HedgeQuantile is not (>= 0.5 and <= 1) || options.MinHedgeDelay < TimeSpan.Zero || options.MaxHedgeDelay < options.MinHedgeDelay || options.HedgeAfter < TimeSpan.Zero)
        {
            throw new ArgumentException("Hedging needs HedgeQuantile in [0.5, 1], 0 <= MinHedgeDelay <= MaxHedgeDelay and a non-negative HedgeAfter.", nameof(options));
        }

        if (options.AuditRetries is < 0 or > 20 || options.AuditRetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentException("AuditRetries must be 0 to 20 and AuditRetryDelay non-negative.", nameof(options));
        }

        _options = options;
        _directory = options.Directory ?? new StaticNodeDirectory(options.Nodes);
        Reputation = options.Reputation ?? new ReputationBook(timeProvider: options.TimeProvider);
        _chooser = new NodeChooser(options, Reputation);
        _hedgeDelay = HedgeDelayPolicy.From(options);
        _nonce = options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() << 16;
        _reclaims = new EscrowReclaims(options.Stakes);
    }

    /// <summary>
    /// What this client has seen of each node (completed requests, timeouts, audit verdicts from its
    /// validators); the competition policy routes by it.
    /// </summary>
    public ReputationBook Reputation { get; }

    /// <summary>Every request whose price cap this client escrowed (answered or not; the newest <see cref="OpenedEscrowsKept"/>).</summary>
    public IReadOnlyCollection<RequestId> OpenedEscrows => [.. _escrows];

    /// <summary>How many of the newest escrows <see cref="OpenedEscrows"/> keeps (a long-running client forgets older ones).</summary>
    public const int OpenedEscrowsKept = 100_000;

    /// <summary>How many escrows of attempts that delivered no answer wait for <see cref="ReclaimEscrowsAsync"/>.</summary>
    public int EscrowsToReclaim => _reclaims.Waiting;

    /// <summary>
    /// Takes back the price caps of this client's attempts that delivered no answer (a hedge that lost, an attempt
    /// that failed before a retry): each is refunded as soon as the ledger allows, at once when another attempt of the
    /// same request was paid (its escrow group), else once the escrow is abandoned (twice the dispute window); those
    /// not yet released wait for a later call. The escrow of a delivered answer is its node's to claim: it is refunded
    /// only when another attempt's node was paid for the request first. A host calls this periodically (the gateway does, every <c>PoIPGatewayOptions.ReclaimInterval</c>). Returns how
    /// many escrows were refunded.
    /// </summary>
    public Task<int> ReclaimEscrowsAsync(CancellationToken cancellationToken = default) => _reclaims.SweepAsync(cancellationToken);

    /// <summary>
    /// Asks a question; returns a checked answer or throws <see cref="NodeFailedException"/> when no
    /// node answered. When <paramref name="onText"/> is given it receives each piece as it arrives;
    /// once a piece has reached it, a failing node ends the request (another node would repeat text
    /// already shown). The answer is returned as soon as it is delivered and its receipt checked; the
    /// audit follows in <see cref="ClientAnswer.Audit"/> (a validator outage or slowness leaves it pending,
    /// never loses or delays the answer).
    /// </summary>
    public Task<ClientAnswer> AskAsync(string prompt, AskOptions options, Action<string>? onText = null, CancellationToken cancellationToken = default) =>
        AskAsync(prompt, options, onText, onRequest: null, cancellationToken);

    /// <summary>The directory this client looks nodes up in.</summary>
    internal INodeDirectory Directory => _directory;

    /// <summary>The client's options (stakes, validators).</summary>
    internal PoIPClientOptions Options => _options;

    /// <summary>The smoothed time to first token per measured node (a hedge that lost before its first token counts its silence as a lower bound).</summary>
    public IReadOnlyDictionary<PeerId, TimeSpan> Latencies => _chooser.Latencies;

    /// <summary>
    /// How long a request started now waits for a first token before hedging (<see cref="PoIPClientOptions.HedgeAfter"/>,
    /// or the adaptive delay from the measured times to first token); null when hedging is off.
    /// </summary>
    public TimeSpan? HedgeDelay => _hedgeDelay.Current;

    /// <summary>Whether <paramref name="node"/>'s circuit is open (the node is skipped).</summary>
    internal bool IsBroken(PeerId node) => _breakers.TryGetValue(node, out var breaker) && breaker.IsValueCreated && breaker.Value.State.CircuitState is CircuitState.Open or CircuitState.Isolated;

    /// <summary>As the public overload; <paramref name="onRequest"/> learns each attempt's signed request before it is sent.</summary>
    internal async Task<ClientAnswer> AskAsync(string prompt, AskOptions options, Action<string>? onText, Action<SignedMessage<InferenceRequest>, PeerId>? onRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        var nodes = (await _directory.FindNodesAsync(options.Model, cancellationToken).ConfigureAwait(false))
            .Where(l => l.Address.PeerId is not null).DistinctBy(l => l.Address.PeerId).ToList();
        var state = new RequestState(prompt, options, nodes, _chooser.StartRequest(), onRequest, cancellationToken);
        bool delivered = false;
        Action<string>? deliver = onText is null ? null : piece =>
        {
            delivered = true;
            onText(piece);
        };
        var retry = new ResiliencePipelineBuilder<ClientAnswer>()
            .AddRetry(new RetryStrategyOptions<ClientAnswer>
            {
                MaxRetryAttempts = Math.Max(1, nodes.Count - 1), // Polly refuses 0; with one node the extra attempt finds no untried node and ends the request
                Delay = TimeSpan.Zero,
                ShouldHandle = args => ValueTask.FromResult(!delivered && args.Outcome.Exception is NodeAttemptException or BrokenCircuitException),
            })
            .Build();

        RequestId? answered = null;
        try
        {
            return await retry.ExecuteAsync(
                async ct =>
                {
                    var winner = await RaceAsync(state, ct).ConfigureAwait(false);
                    foreach (var other in state.Others(winner))
                    {
                        Lose(state, other); // a hedge that produced a token too late is cancelled here, before its node can finish
                    }

                    winner.Deliver(deliver);
                    var (request, outcome) = await winner.Completion.ConfigureAwait(false);
                    answered = new RequestId(request.Hash);
                    return await AnsweredAsync(state, request, outcome, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NodeAttemptException or BrokenCircuitException)
        {
            throw new NodeFailedException($"No node answered after {state.Attempts} attempts: {string.Join("; ", state.Failures)}", ex);
        }
        finally
        {
            // Not awaited: an attempt still opening its escrow (a hedge being cancelled) must not delay the answer.
            _ = TrackEscrowsAsync(state, answered);
        }
    }

    /// <summary>Hands the escrows of the request's attempts to <see cref="ReclaimEscrowsAsync"/>.</summary>
    private async Task TrackEscrowsAsync(RequestState state, RequestId? answered)
    {
        await state.Escrowing.WaitAsync(CancellationToken.None).ConfigureAwait(false); // no attempt is opening one now
        try
        {
            _reclaims.Track(state.Escrows, answered);
            _reclaims.TrackUncertain(state.UncertainEscrows);
        }
        finally
        {
            state.Escrowing.Release();
        }
    }

    /// <summary>
    /// Starts an attempt and, when hedging is on (<see cref="PoIPClientOptions.Hedging"/>), another node's attempt
    /// each time the running ones have produced no token for the hedge delay (<see cref="HedgeDelay"/>) (Polly hedging; a failure before the
    /// first token starts the next one at once). The first attempt to produce a token wins; the others are
    /// cancelled (their streams reset, so their nodes stop before a receipt exists and their escrows can
    /// only be refunded).
    /// </summary>
    private async Task<Attempt> RaceAsync(RequestState state, CancellationToken cancellationToken)
    {
        if (state.Nodes.Count < 2 || _hedgeDelay.Current is not { } after)
        {
            return await StartAsync(state, cancellationToken).ConfigureAwait(false);
        }

        var hedging = new ResiliencePipelineBuilder<Attempt> { TimeProvider = _options.TimeProvider }
            .AddHedging(new HedgingStrategyOptions<Attempt>
            {
                Delay = after,
                MaxHedgedAttempts = Math.Clamp(Math.Min(_options.MaxHedgedAttempts, state.Nodes.Count - 1), 1, 10),
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is NodeAttemptException or BrokenCircuitException),
            })
            .Build();
        return await hedging.ExecuteAsync(async ct => await StartAsync(state, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Chooses an untried node and starts an attempt on it; returns once it produced its first token (or
    /// finished). <paramref name="raceToken"/> cancels it only until then: a hedge that lost is cancelled
    /// through it, the winner's generation continues on the caller's token.
    /// </summary>
    private async Task<Attempt> StartAsync(RequestState state, CancellationToken raceToken)
    {
        Multiaddr node;
        await state.Choosing.WaitAsync(raceToken).ConfigureAwait(false);
        try
        {
            node = await _chooser.ChooseAsync(state.Nodes, state.Start, state.Tried, state.Options.PriceCap, state.Options.MaxTokens, raceToken).ConfigureAwait(false)
                ?? throw new NodeAttemptException(state.Tried.Count == 0 ? "no node is eligible (stake or price)." : "no other eligible node.");
            state.Tried.Add(node.PeerId!.Value);
            Interlocked.Increment(ref state.Attempts);
        }
        finally
        {
            state.Choosing.Release();
        }

        var nodeId = node.PeerId!.Value;
        var attempt = new Attempt(nodeId, CancellationTokenSource.CreateLinkedTokenSource(state.CallerToken), _options.TimeProvider.GetTimestamp());
        state.Started(attempt);
        var breaker = BreakerOf(nodeId);
        using (raceToken.Register(() => Lose(state, attempt)))
        {
            attempt.Completion = breaker.ExecuteAsync(async ct => await AttemptAsync(node, state, attempt, ct).ConfigureAwait(false), attempt.Token).AsTask();
            _ = attempt.Completion.ContinueWith(
                t =>
                {
                    _ = t.Exception; // a lost attempt's failure is expected: observed here
                    attempt.Dispose();
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            await Task.WhenAny(attempt.FirstToken, attempt.Completion).ConfigureAwait(false);
        }

        if (!attempt.HasFirstToken)
        {
            await attempt.Completion.ConfigureAwait(false); // finished without a token (rethrows its failure)
        }

        return attempt;
    }

    /// <summary>Cancels an attempt that lost the race (once); counts it and, when it had produced no token, records how long it was silent as a lower bound of its latency.</summary>
    private void Lose(RequestState state, Attempt attempt)
    {
        if (attempt.Completion is { IsCompleted: true } || state.CallerToken.IsCancellationRequested)
        {
            attempt.Cancel(); // finished already, or the caller gave up: nothing lost to hedging
            return;
        }

        if (!attempt.Lose())
        {
            return;
        }

        Interlocked.Increment(ref state.HedgesCancelled);
        if (!attempt.HasFirstToken)
        {
            // It was at least this slow (a censored sample), so the competition learns it even though it never answered.
            _chooser.ObserveLatency(attempt.Node, _options.TimeProvider.GetElapsedTime(attempt.Started));
        }
    }

    private async Task<ClientAnswer> AnsweredAsync(RequestState state, SignedMessage<InferenceRequest> request, InferenceOutcome outcome, CancellationToken cancellationToken)
    {
        var nodeId = outcome.Receipt!.Message.NodeId;

        // The answer is delivered and its receipt checked: return it now. The audit runs afterwards on its
        // own clock (not the caller's token: the caller may be gone by then) and can neither lose nor delay it.
        byte[] promptBytes = System.Text.Encoding.UTF8.GetBytes(state.Prompt);
        Task<ClientAudit> audit, finalAudit;
        if (_options.Validators.Count == 0 && _options.ValidatorDirectory is null)
        {
            audit = finalAudit = Task.FromResult(ClientAudit.NotRequested);
        }
        else
        {
            var first = new TaskCompletionSource<ClientAudit>(TaskCreationOptions.RunContinuationsAsynchronously);
            audit = first.Task;
            int validator = state.Attempts;
            finalAudit = Task.Run(() => AuditUntilDecidedAsync(validator, request, promptBytes, outcome.Receipt, outcome.OutputTokens, nodeId, first), CancellationToken.None);
        }

        var recorded = await RecordAsync(request, outcome.Receipt, cancellationToken).ConfigureAwait(false);
        return new ClientAnswer(outcome.Text, outcome.OutputTokens, nodeId, request, outcome.Receipt, state.Attempts, [.. state.Failures])
        {
            Audit = audit,
            FinalAudit = finalAudit,
            HedgesCancelled = Volatile.Read(ref state.HedgesCancelled),
            Recorded = recorded,
        };
    }

    /// <summary>The node's circuit breaker, built on first use by exactly one thread (concurrent first requests share it).</summary>
    internal ResiliencePipeline BreakerOf(PeerId node) =>
        _breakers.GetOrAdd(node, _ => new Lazy<NodeBreaker>(CreateBreaker, LazyThreadSafetyMode.ExecutionAndPublication)).Value.Pipeline;

    private NodeBreaker CreateBreaker()
    {
        var state = new CircuitBreakerStateProvider();
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = _options.TimeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                StateProvider = state,
                FailureRatio = 1.0,
                MinimumThroughput = Math.Max(2, _options.FailuresBeforeBreak),
                SamplingDuration = TimeSpan.FromMinutes(1),
                BreakDuration = _options.BreakDuration,
                ShouldHandle = new PredicateBuilder().Handle<NodeAttemptException>(),
            })
            .Build();
        return new NodeBreaker(pipeline, state);
    }

    private sealed record NodeBreaker(ResiliencePipeline Pipeline, CircuitBreakerStateProvider State);

    private async Task<(SignedMessage<InferenceRequest> Request, InferenceOutcome Outcome)> AttemptAsync(Multiaddr node, RequestState state, Attempt attempt, CancellationToken cancellationToken)
    {
        var options = state.Options;
        var nodeId = node.PeerId!.Value;
        _chooser.Attempted(nodeId);
        byte[] promptBytes = System.Text.Encoding.UTF8.GetBytes(state.Prompt);
        var request = SignedMessage.Create(_options.Key, InferenceRequest.ForPrompt(
            state.Prompt, options.Model, _options.Key.PeerId, options.Sampling, options.Seed, options.MaxTokens, options.PriceCap,
            (ulong)Interlocked.Increment(ref _nonce), _options.TimeProvider.GetUtcNow().Add(_options.AttemptTimeout).AddMinutes(1)));
        var requestId = new RequestId(request.Hash);
        EconomicResult escrow;
        await state.Escrowing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Every attempt after the first joins the first one's escrow group: if a node whose attempt
            // lost (a hedge that finished anyway, a retry after a stream broke at its end) claims too,
            // the ledger pays only the first receipt presented and refuses the other (AlreadyPaid).
            try
            {
                escrow = await _options.Stakes.OpenEscrowAsync(OperationId.Derive("escrow-open", requestId.Digest.ToArray()), requestId, _options.Key.PeerId, nodeId, options.PriceCap, state.EscrowGroup, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception)
            {
                state.UncertainEscrows.Add(requestId); // e.g. sent to a chain that did not confirm in time: it may still open
                throw;
            }

            if (escrow.IsApplied)
            {
                state.EscrowGroup ??= requestId;
                state.Escrows.Add(requestId);
            }
        }
        finally
        {
            state.Escrowing.Release();
        }

        if (escrow.Status is EconomicStatus.InsufficientStake or EconomicStatus.UnknownAccount)
        {
            // The ledger will not let this node be paid (e.g. slashed below the minimum stake): skip it.
            state.Fail($"{nodeId}: not eligible ({escrow.Status}: {escrow.Detail})");
            throw new NodeAttemptException(escrow.Detail);
        }

        if (!escrow.IsApplied)
        {
            throw new InvalidOperationException($"Cannot escrow the price cap: {escrow.Status} {escrow.Detail}");
        }

        _escrows.Enqueue(requestId);
        while (_escrows.Count > OpenedEscrowsKept && _escrows.TryDequeue(out _))
        {
        }
        state.OnRequest?.Invoke(request, nodeId);

        InferenceOutcome outcome;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(_options.AttemptTimeout);
            void OnToken(Core.Engine.GeneratedToken token)
            {
                if (!attempt.HasFirstToken)
                {
                    var firstToken = _options.TimeProvider.GetElapsedTime(attempt.Started);
                    _chooser.ObserveLatency(nodeId, firstToken);
                    _hedgeDelay.Observe(firstToken);
                }

                attempt.OnPiece(token.Piece);
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
            state.Fail($"{nodeId}: {outcome.Status} {outcome.Detail}");
            Reputation.Record(nodeId, ReputationEvent.Timeout);
            throw new NodeAttemptException(outcome.Detail);
        }

        Reputation.Record(nodeId, ReputationEvent.RequestCompleted);
        return (request, outcome);
    }

    /// <summary>The latest network diagnosis of each node this client probed (<see cref="DiagnoseAsync(Multiaddr, TokenAmount, CancellationToken)"/>).</summary>
    public IReadOnlyDictionary<PeerId, NodeDiagnosis> Diagnoses => _diagnoses;

    /// <summary>
    /// Diagnoses <paramref name="node"/> over the network: sends it the known-answer challenges
    /// (<see cref="KnownAnswerTest.Challenges"/>: stories260K prompts, sampling and seeds whose tokens every
    /// honest engine reproduces exactly) as ordinary signed, escrowed and paid requests, indistinguishable
    /// from other traffic, and measures its time to first token and decode speed on them. A node that
    /// answers a challenge with other tokens fails: it loses reputation (as proven fraud, in this client's
    /// book) and is routed around until a later diagnosis passes. The answers are handed to a validator like
    /// any other (re-execution checks their activations). Never throws for the node's faults: they are the
    /// diagnosis.
    /// </summary>
    /// <param name="node">The node's full multiaddr (with <c>/p2p/</c>).</param>
    /// <param name="pricePerToken">Most paid per token for the challenges (escrowed as for any request).</param>
    /// <param name="cancellationToken">Cancels the diagnosis.</param>
    /// <exception cref="ArgumentException">The address has no peer id.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public Task<NodeDiagnosis> DiagnoseAsync(Multiaddr node, TokenAmount pricePerToken, CancellationToken cancellationToken = default) =>
        DiagnoseCoreAsync(node, pricePerToken, KnownAnswerTest.Challenges, check: null, cancellationToken);

    /// <summary>
    /// Diagnoses <paramref name="node"/> with <paramref name="challenges"/> (e.g. derived for any model with
    /// <see cref="KnownAnswerTest.DeriveChallengesAsync"/>): a challenge whose <see cref="KnownAnswerChallenge.Engine"/> is set binds
    /// only a node claiming that identity (for another it is unchecked); with <paramref name="activations"/>, every
    /// answered challenge is also re-executed there (its activations checked, not left to an audit lottery), and a
    /// <see cref="VerdictOutcome.Fraud"/> fails the node.
    /// </summary>
    /// <param name="node">The node's full multiaddr (with <c>/p2p/</c>).</param>
    /// <param name="pricePerToken">Most paid per token for the challenges.</param>
    /// <param name="challenges">The challenges, all for one model.</param>
    /// <param name="activations">Re-executes an answered challenge (e.g. a <c>ReexecutionVerifier</c> on the challenger's engine); null: tokens only.</param>
    /// <param name="cancellationToken">Cancels the diagnosis.</param>
    /// <exception cref="ArgumentException">The address has no peer id, or no challenge is given.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public Task<NodeDiagnosis> ChallengeAsync(Multiaddr node, TokenAmount pricePerToken, IReadOnlyList<KnownAnswerChallenge> challenges, IProofVerifier? activations, CancellationToken cancellationToken = default) =>
        DiagnoseCoreAsync(node, pricePerToken, challenges, activations is null ? null : async (c, ct) =>
        {
            var result = await activations.VerifyAsync(c, ct).ConfigureAwait(false);
            return (result.Outcome, result.Detail);
        }, cancellationToken);

    /// <summary>As the public overload; <paramref name="check"/> judges each answered challenge's activations (a validator slashes on fraud there).</summary>
    internal async Task<NodeDiagnosis> DiagnoseCoreAsync(Multiaddr node, TokenAmount pricePerToken, IReadOnlyList<KnownAnswerChallenge> challenges, Func<VerificationCase, CancellationToken, Task<(VerdictOutcome Outcome, string Detail)>>? check, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(challenges);
        var nodeId = node.PeerId ?? throw new ArgumentException("The node's address needs a /p2p/<id> component.", nameof(node));
        if (challenges.Count == 0)
        {
            throw new ArgumentException("At least one challenge is needed.", nameof(challenges));
        }

        EngineIdentity? engine = null;
        TimeSpan? firstTokenTime = null;
        double decodeSeconds = 0;
        int decodeTokens = 0, answered = 0;
        string? failed = null, notChecked = null;
        int bound = 0, activationChecks = 0;
        foreach (var challenge in challenges)
        {
            var model = challenge.Model ?? ModelId.Parse(KnownAnswerTest.ModelSha256);
            var ask = new AskOptions(model, challenge.Sampling, challenge.Seed, challenge.MaxTokens, pricePerToken.Multiply((ulong)challenge.MaxTokens));
            var state = new RequestState(challenge.Prompt, ask, [new NodeListing(node)], _chooser.StartRequest(), null, cancellationToken);
            Interlocked.Increment(ref state.Attempts);
            using var attempt = new Attempt(nodeId, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken), _options.TimeProvider.GetTimestamp());
            long first = 0, last = 0;
            int pieces = 0;
            attempt.Deliver(_ =>
            {
                last = _options.TimeProvider.GetTimestamp();
                first = pieces++ == 0 ? last : first;
            });
            SignedMessage<InferenceRequest> request;
            InferenceOutcome outcome;
            try
            {
                (request, outcome) = await AttemptAsync(node, state, attempt, attempt.Token).ConfigureAwait(false);
            }
            catch (NodeAttemptException ex)
            {
                // Refused (e.g. over its token limit) or unreachable: that challenge is unchecked. With none
                // answered yet, the node is not diagnosable now (unreachable, or not serving stories260K).
                notChecked = (notChecked is null ? string.Empty : notChecked + "; ") + $"{challenge.Name}: not answered ({string.Join("; ", state.Failures.DefaultIfEmpty(ex.Message))})";
                if (answered == 0)
                {
                    break;
                }

                continue;
            }

            answered++;
            engine = outcome.Receipt!.Message.Engine;
            firstTokenTime ??= pieces > 0 ? _options.TimeProvider.GetElapsedTime(attempt.Started, first) : null;
            if (pieces > 1)
            {
                decodeSeconds += _options.TimeProvider.GetElapsedTime(first, last).TotalSeconds;
                decodeTokens += pieces - 1;
            }

            _ = await AnsweredAsync(state, request, outcome, cancellationToken).ConfigureAwait(false); // handed to a validator like any answer (its audit runs on its own)
            if (check is not null)
            {
                // The challenger re-executes every challenge answer itself: activations are always checked.
                var (verdict, verdictDetail) = await check(new VerificationCase(request, outcome.Receipt, System.Text.Encoding.UTF8.GetBytes(challenge.Prompt), outcome.OutputTokens), cancellationToken).ConfigureAwait(false);
                activationChecks++;
                if (verdict == VerdictOutcome.Fraud)
                {
                    failed = $"{challenge.Name}: re-execution found fraud ({verdictDetail}) on {engine}";
                    break;
                }
            }

            if (challenge.Engine is { } madeOn && !KnownAnswerTest.SameIdentity(madeOn, engine))
            {
                notChecked = (notChecked is null ? string.Empty : notChecked + "; ") + $"{challenge.Name}: tokens not binding (made on {madeOn}, the node claims {engine})";
                continue;
            }

            bound++;
            if (!outcome.OutputTokens.SequenceEqual(challenge.ExpectedTokens))
            {
                int at = outcome.OutputTokens.Zip(challenge.ExpectedTokens).TakeWhile(p => p.First == p.Second).Count();
                failed = $"{challenge.Name}: tokens differ from position {at} ({outcome.OutputTokens.Count} answered, {challenge.ExpectedTokens.Count} expected) on {engine}";
                break;
            }
        }

        bool? passed = failed is not null ? false : bound + activationChecks == 0 ? null : true;
        string detail = failed ?? $"{bound}/{challenges.Count} known-answer challenges answered exactly" + (activationChecks > 0 ? $", {activationChecks} re-executed" : string.Empty) + $" on {engine}" + (notChecked is null ? string.Empty : "; " + notChecked);
        if (answered == 0)
        {
            detail = notChecked ?? "no challenge answered";
        }

        if (passed == false)
        {
            Reputation.Record(nodeId, ReputationEvent.ChallengeFailed);
            _chooser.Exclude(nodeId);
        }
        else if (passed == true)
        {
            _chooser.Include(nodeId);
        }

        var diagnosis = new NodeDiagnosis(nodeId, _options.TimeProvider.GetUtcNow(), passed, detail, engine, firstTokenTime, decodeSeconds > 0 ? decodeTokens / decodeSeconds : null, answered);
        _diagnoses[nodeId] = diagnosis;
        return diagnosis;
    }

    /// <summary>
    /// Hands a finished transaction to the validators until one decides it: the first try's outcome completes
    /// <paramref name="first"/> (once the wait before any retry is already scheduled, so a clock advanced after it
    /// reaches that wait); a pending one is retried up to <see cref="PoIPClientOptions.AuditRetries"/> times, the
    /// next validator each time, waits doubling from <see cref="PoIPClientOptions.AuditRetryDelay"/> (capped at 5
    /// minutes). Never throws.
    /// </summary>
    private async Task<ClientAudit> AuditUntilDecidedAsync(int validator, SignedMessage<InferenceRequest> request, byte[] promptBytes, SignedMessage<InferenceReceipt> receipt, IReadOnlyList<int> outputTokens, PeerId nodeId, TaskCompletionSource<ClientAudit> first)
    {
        var audit = await AuditWithAsync(validator, request, promptBytes, receipt, outputTokens, nodeId).ConfigureAwait(false);
        var delay = _options.AuditRetryDelay;
        for (int retry = 1; ; retry++)
        {
            if (audit.Status != ClientAuditStatus.Pending || retry > _options.AuditRetries)
            {
                first.TrySetResult(audit);
                return audit;
            }

            var wait = Task.Delay(delay, _options.TimeProvider, CancellationToken.None);
            first.TrySetResult(audit);
            await wait.ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMinutes(5).Ticks));
            audit = await AuditWithAsync(validator + retry, request, promptBytes, receipt, outputTokens, nodeId).ConfigureAwait(false);
            if (audit.Status == ClientAuditStatus.Pending && retry == _options.AuditRetries)
            {
                audit = audit with { Detail = $"{audit.Detail} (still pending after {retry} retries)" };
            }
        }
    }

    /// <summary>
    /// Hands a finished transaction to the <paramref name="turn"/>-th validator (in turn over the configured ones, else
    /// over those <see cref="PoIPClientOptions.ValidatorDirectory"/> finds now); never throws: none found, an outage or
    /// a timeout leaves the audit pending.
    /// </summary>
    private async Task<ClientAudit> AuditWithAsync(int turn, SignedMessage<InferenceRequest> request, byte[] promptBytes, SignedMessage<InferenceReceipt> receipt, IReadOnlyList<int> outputTokens, PeerId nodeId)
    {
        var validators = _options.Validators;
        if (validators.Count == 0 && _options.ValidatorDirectory is { } directory)
        {
            using var timeout = new CancellationTokenSource(_options.AuditTimeout, _options.TimeProvider);
            try
            {
                validators = await directory.FindValidatorsAsync(request.Message.ModelId, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return new ClientAudit(ClientAuditStatus.Pending, $"no validator found, answer kept: {ex.Message}");
            }
        }

        return validators.Count == 0
            ? new ClientAudit(ClientAuditStatus.Pending, "no validator of this model found, answer kept.")
            : await AuditAsync(validators[turn % validators.Count], request, promptBytes, receipt, outputTokens, nodeId).ConfigureAwait(false);
    }

    /// <summary>Hands a finished transaction to a validator; never throws (an outage or a timeout leaves the audit pending).</summary>
    private async Task<ClientAudit> AuditAsync(Multiaddr validator, SignedMessage<InferenceRequest> request, byte[] promptBytes, SignedMessage<InferenceReceipt> receipt, IReadOnlyList<int> outputTokens, PeerId nodeId)
    {
        var validatorId = validator.PeerId!.Value;
        using var timeout = new CancellationTokenSource(_options.AuditTimeout, _options.TimeProvider);
        AuditReply reply;
        try
        {
            var stream = await _options.Host.OpenStreamAsync(validator, AuditWire.ProtocolId, timeout.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                try
                {
                    reply = await AuditWire.SubmitAsync(stream, request.Envelope.Encoded, promptBytes, receipt.Envelope.Encoded, outputTokens, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    stream.Reset();
                    throw;
                }
            }
        }
        catch (Exception ex)
        {
            // The transaction stays unaudited (pending); it can be handed to a validator later.
            string why = ex is OperationCanceledException ? $"no reply within {_options.AuditTimeout.TotalSeconds:0.#} s" : ex.Message;
            return new ClientAudit(ClientAuditStatus.Pending, $"validator {validatorId} unreachable, answer kept: {why}", validatorId);
        }

        if (!reply.Selected)
        {
            return new ClientAudit(reply.SelectionSignature.IsEmpty ? ClientAuditStatus.Pending : ClientAuditStatus.NotSelected, reply.Detail, validatorId, reply);
        }

        var verdict = CheckVerdict(reply, validatorId, new ReceiptId(receipt.Hash), nodeId);
        if (verdict is null)
        {
            return new ClientAudit(ClientAuditStatus.Pending, "the validator's verdict is missing or does not verify: " + reply.Detail, validatorId, reply);
        }

        Reputation.Record(nodeId, verdict.Message.Outcome == VerdictOutcome.Fraud ? ReputationEvent.FraudProven : ReputationEvent.AuditPassed);
        var status = verdict.Message.Outcome switch
        {
            VerdictOutcome.Valid => ClientAuditStatus.Valid,
            VerdictOutcome.Fraud => ClientAuditStatus.Fraud,
            _ => ClientAuditStatus.Inconclusive,
        };
        return new ClientAudit(status, reply.Detail, validatorId, reply, verdict);
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
    /// The validator's verdict, only when it is signed by the validator asked and concerns this receipt
    /// and node (a forged or misdirected verdict counts for nothing); null otherwise.
    /// </summary>
    private static SignedMessage<Verdict>? CheckVerdict(AuditReply audit, PeerId validator, ReceiptId receipt, PeerId node)
    {
        if (audit.VerdictEnvelope.IsEmpty)
        {
            return null;
        }

        SignedMessage<Verdict> verdict;
        try
        {
            verdict = SignedMessage.Open<Verdict>(audit.VerdictEnvelope);
        }
        catch (Exception ex) when (ex is Core.Errors.PoIPDecodeException or Core.Errors.SignatureException)
        {
            return null;
        }

        return verdict.Signer != validator || verdict.Message.ReceiptId != receipt || verdict.Message.NodeId != node ? null : verdict;
    }

    /// <summary>One node failed one attempt (counted by that node's circuit breaker).</summary>
    private sealed class NodeAttemptException(string message) : Exception(message);
}
