using PoIP.Core.Economics;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;
using PoIP.Economics.Reputation;
using PoIP.Economics.Selection;
using PoIP.Hosting.Client;
using PoIP.Hosting.Validation;
using PoIP.Inference.Commitments;
using PoIP.Inference.Llama;
using PoIP.Inference.Sampling;
using PoIP.Inference.Verification;
using PoIP.Network.Addressing;
using PoIP.Network.AuditProtocol;
using PoIP.Network;
using PoIP.Network.InferProtocol;

namespace PoIP.Testing.LocalNetwork;

/// <summary>
/// A complete PoIP network on loopback, every part real: llama.cpp nodes behind
/// <c>/poip/infer/1.0.0</c> on libp2p (Noise, Yamux), one of them cheating; a validator that draws
/// the verifiable audit lottery and re-executes by teacher forcing; a client that escrows, retries
/// and checks receipts; and the embedded SQLite ledger that stakes, pays and slashes.
/// </summary>
public sealed class LocalNetwork : IAsyncDisposable
{
    private readonly LocalNetworkOptions _options;
    private readonly List<NodeState> _nodes = [];
    private readonly List<(SignedMessage<InferenceRequest> Request, SignedMessage<InferenceReceipt> Receipt)> _toSettle = [];
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<string> _failedAttempts = [];
    private readonly ReputationBook _reputation = new();
    private ILocalNetworkLedger _money = null!;
    private IStakeManager _ledger = null!;
    private Ed25519KeyPair _clientKey = null!;
    private Ed25519KeyPair _validatorKey = null!;
    private PoIPClient _client = null!;
    private ValidatorService _validator = null!;
    private ModelId _model;
    private int _requests;
    private int _audited;
    private int _firstFraud;
    private TimeSpan _firstFraudAt;
    private TimeSpan _elapsed;

    private LocalNetwork(LocalNetworkOptions options) => _options = options;

    /// <summary>Node names and ids, in order (the last one cheats unless <see cref="CheatKind.None"/>).</summary>
    public IReadOnlyList<(string Name, PeerId Id, bool Cheats)> Nodes => [.. _nodes.Select(n => (n.Name, n.Key.PeerId, n.Cheats))];

    /// <summary>The model every node serves.</summary>
    public ModelId Model => _model;

    /// <summary>The network's ledger (read it; the network drives it).</summary>
    public IStakeManager Ledger => _ledger;

    /// <summary>The network's client (escrow, routing, audits); the gateway and benchmarks send through it too.</summary>
    public PoIPClient Client => _client;

    /// <summary>The nodes' full multiaddrs (with <c>/p2p/&lt;id&gt;</c>), in the order of <see cref="Nodes"/>.</summary>
    public IReadOnlyList<Multiaddr> NodeAddresses => [.. _nodes.Select(n => n.Address!)];

    /// <summary>Starts every role and funds the ledger (genesis: faucet deposits, stakes, validator registration).</summary>
    public static async Task<LocalNetwork> StartAsync(LocalNetworkOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? problem = options.Validate();
        if (problem is not null)
        {
            throw new ArgumentException("Invalid local network options: " + problem, nameof(options));
        }

        var network = new LocalNetwork(options);
        try
        {
            await network.StartCoreAsync(cancellationToken).ConfigureAwait(false);
            return network;
        }
        catch
        {
            await network.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_options.DataDirectory);
        _model = await ModelId.FromFileAsync(_options.ModelPath, cancellationToken: cancellationToken).ConfigureAwait(false);
        _money = _options.Ledger is { } ledger
            ? await ledger(cancellationToken).ConfigureAwait(false)
            : new EmbeddedLocalLedger(Path.Combine(_options.DataDirectory, "ledger.db"), LocalNetworkOptions.DevParameters);
        _ledger = _money.Stakes;

        _clientKey = Ed25519KeyPair.Generate();
        _validatorKey = Ed25519KeyPair.Generate();
        await _money.OpenAccountAsync(_clientKey, TokenAmount.FromTokens(1000), cancellationToken).ConfigureAwait(false);
        await _money.OpenAccountAsync(_validatorKey, TokenAmount.FromTokens(101), cancellationToken).ConfigureAwait(false);
        await Require(_ledger.StakeAsync(OperationId.New(), _validatorKey.PeerId, TokenAmount.FromTokens(100), cancellationToken)).ConfigureAwait(false);
        await Require(_ledger.RegisterValidatorAsync(OperationId.New(), _validatorKey.PeerId, cancellationToken)).ConfigureAwait(false);

        var policy = new AdmissionPolicy { Models = new HashSet<ModelId> { _model }, PricePerToken = _options.PricePerToken, MaxOutputTokens = _options.MaxTokens };
        for (int i = 0; i < _options.Nodes; i++)
        {
            bool cheats = _options.Cheat != CheatKind.None && i == _options.Nodes - 1;
            var key = Ed25519KeyPair.Generate();
            var node = new NodeState($"node-{i + 1}{(cheats ? " (cheats)" : string.Empty)}", key, cheats);
            _nodes.Add(node);
            await _money.OpenAccountAsync(key, _options.NodeStake + TokenAmount.FromTokens(1), cancellationToken).ConfigureAwait(false);
            await Require(_ledger.StakeAsync(OperationId.New(), key.PeerId, _options.NodeStake, cancellationToken)).ConfigureAwait(false);
            node.Stake = _options.NodeStake;
            node.BalanceBefore = await _ledger.GetBalanceAsync(key.PeerId, cancellationToken).ConfigureAwait(false);

            IInferenceEngine engine = await LoadEngineAsync(cancellationToken).ConfigureAwait(false);
            if (cheats)
            {
                engine = new CheatingEngine(engine, _options.Cheat);
            }

            if (_options.WrapEngine is { } wrap)
            {
                engine = wrap(i, engine);
            }

            Libp2pHost? nodeHost = null;
            if (i == 0 && _options.CrashFirstNode)
            {
                engine = new CrashingEngine(engine, () => nodeHost!.DisposeAsync());
            }

            _owned.Add(engine);
            var service = new InferenceService(new InferenceServiceOptions
            {
                NodeKey = key,
                Engine = engine,
                Commitments = new ActivationCommitmentScheme(),
                Policy = policy,
                ServingCheck = async ct => await _ledger.CanServeAsync(key.PeerId, ct).ConfigureAwait(false) ? null : "stake below the minimum to serve.",
            });
            var host = nodeHost = await StartHostAsync(key, cancellationToken).ConfigureAwait(false);
            host.SetHandler(InferenceService.ProtocolId, async (stream, ct) =>
            {
                var served = await service.ServeAsync(stream, ct).ConfigureAwait(false);
                if (served.Served)
                {
                    Interlocked.Increment(ref node.Served);
                }
            });
            node.Address = host.ListenAddresses[0].WithPeerId(key.PeerId);
        }

        var validatorEngine = await LoadEngineAsync(cancellationToken).ConfigureAwait(false);
        _owned.Add(validatorEngine);
        _validator = new ValidatorService(new ValidatorServiceOptions
        {
            Key = _validatorKey,
            Verifier = new ReexecutionVerifier(validatorEngine, new ReexecutionVerifierOptions()),
            Stakes = _ledger,
            AuditProbability = AuditSelectionProbability.FromDouble(_options.AuditProbability),
        });
        var validatorHost = await StartHostAsync(_validatorKey, cancellationToken).ConfigureAwait(false);
        validatorHost.SetHandler(AuditWire.ProtocolId, (stream, ct) => _validator.HandleAsync(stream, ct));

        var clientHost = await StartHostAsync(_clientKey, cancellationToken).ConfigureAwait(false);
        _client = new PoIPClient(new PoIPClientOptions
        {
            Key = _clientKey,
            Host = clientHost,
            Nodes = [.. _nodes.Select(n => n.Address!)],
            Validators = [validatorHost.ListenAddresses[0].WithPeerId(_validatorKey.PeerId)],
            Stakes = _ledger,
            Selection = _options.Selection,
            SelectionWeights = new NodeSelectionOptions { MinimumStake = (await _ledger.GetRulesAsync(cancellationToken).ConfigureAwait(false)).MinimumStake },
            Reputation = _reputation, // the client feeds it (completions, timeouts, verified verdicts); the summary reads it
            TimeProvider = _options.ClientTimeProvider ?? TimeProvider.System,
            Hedging = _options.HedgeAfter is not null, // the harness hedges only when told a delay (its figures and tests stay reproducible)
            HedgeAfter = _options.HedgeAfter,
            SelectionSeed = _options.SelectionSeed,
        });
    }

    /// <summary>Runs one request through the network: client → node → validator → ledger.</summary>
    public async Task<RequestReport> AskAsync(string prompt, ulong seed, CancellationToken cancellationToken = default)
    {
        var started = TimeProvider.System.GetTimestamp(); // real request time for the demo's figures
        int index = Interlocked.Increment(ref _requests);
        var answer = await _client.AskAsync(prompt, new AskOptions(_model, new SamplingParameters(), seed, _options.MaxTokens, _options.PricePerToken.Multiply((uint)_options.MaxTokens)), cancellationToken: cancellationToken).ConfigureAwait(false);
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        _elapsed += elapsed;
        var node = _nodes.Single(n => n.Key.PeerId == answer.Node);
        _failedAttempts.AddRange(answer.FailedAttempts);
        var audit = await answer.Audit.ConfigureAwait(false); // the demo reports each verdict, so it waits for the audit (which runs after the answer)
        bool audited = audit.Reply?.Selected ?? false;
        string verdict = "not audited";
        string detail = audit.Detail;
        if (audit.Verdict is { } signed)
        {
            verdict = signed.Message.Outcome.ToString();
            Interlocked.Increment(ref _audited);
            node.Audits++;
            if (signed.Message.Outcome == VerdictOutcome.Fraud)
            {
                node.Frauds++;
                if (_firstFraud == 0)
                {
                    _firstFraud = index;
                    _firstFraudAt = _elapsed; // the validator slashed before it replied
                }
            }
        }

        if (verdict != nameof(VerdictOutcome.Fraud))
        {
            _toSettle.Add((answer.Request, answer.Receipt));
        }

        return new RequestReport(index, node.Name, answer.Text, audited, verdict, detail, elapsed, answer.FailedAttempts);
    }

    /// <summary>Moves the ledger's clock forward (dispute windows, abandoned escrows).</summary>
    public Task AdvanceLedgerClockAsync(TimeSpan by, CancellationToken cancellationToken = default) => _money.AdvanceAsync(by, cancellationToken);

    /// <summary>Fast-forwards the ledger past the dispute window, settles the unchallenged payments, refunds abandoned escrows, and reports.</summary>
    public async Task<NetworkSummary> FinishAsync(CancellationToken cancellationToken = default)
    {
        var parameters = await _ledger.GetRulesAsync(cancellationToken).ConfigureAwait(false);
        await _money.AdvanceAsync(parameters.DisputeWindow + TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        int settled = 0;
        foreach (var (request, receipt) in _toSettle)
        {
            var result = await _ledger.SettleEscrowAsync(OperationId.Derive("escrow-settle", request.Hash.ToArray()), request, receipt, cancellationToken).ConfigureAwait(false);
            settled += result.IsApplied ? 1 : 0;
        }

        await _money.AdvanceAsync(parameters.DisputeWindow, cancellationToken).ConfigureAwait(false);
        int refunded = 0;
        foreach (var id in _client.OpenedEscrows)
        {
            var escrow = await _ledger.GetEscrowAsync(id, cancellationToken).ConfigureAwait(false);
            if (escrow is { State: EscrowState.Open })
            {
                refunded += (await _ledger.RefundEscrowAsync(OperationId.Derive("escrow-refund-abandoned", id.Digest.ToArray()), id, cancellationToken).ConfigureAwait(false)).IsApplied ? 1 : 0;
            }
            else if (escrow is { State: EscrowState.Refunded })
            {
                refunded++;
            }
        }

        var reports = new List<NodeReport>();
        foreach (var node in _nodes)
        {
            var stake = await _ledger.GetStakeAsync(node.Key.PeerId, cancellationToken).ConfigureAwait(false);
            var balance = await _ledger.GetBalanceAsync(node.Key.PeerId, cancellationToken).ConfigureAwait(false);
            reports.Add(new NodeReport(node.Name, node.Key.PeerId, node.Cheats, node.Served, node.Audits, node.Frauds, balance - node.BalanceBefore, node.Stake, stake.Bonded + stake.Unbonding, _reputation.GetScore(node.Key.PeerId)));
        }

        var totals = await _ledger.GetTotalsAsync(cancellationToken).ConfigureAwait(false);
        bool check = await _money.CheckAsync(cancellationToken).ConfigureAwait(false);
        int abandoned = _client.OpenedEscrows.Count - _requests;
        return new NetworkSummary(reports, _requests, _audited, settled, refunded, totals, check, _firstFraud, _elapsed, abandoned, [.. _failedAttempts], _firstFraudAt);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync().ConfigureAwait(false);
        }

        if (_money is not null)
        {
            await _money.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var node in _nodes)
        {
            node.Key.Dispose();
        }

        _clientKey?.Dispose();
        _validatorKey?.Dispose();
    }

    private async Task<Libp2pHost> StartHostAsync(Ed25519KeyPair key, CancellationToken cancellationToken)
    {
        var options = new Libp2pHostOptions { Key = key };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        var host = Libp2pHost.Create(options);
        _owned.Add(host);
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        return host;
    }

    private async Task<IInferenceEngine> LoadEngineAsync(CancellationToken cancellationToken) =>
        await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = _options.ModelPath, Threads = _options.Threads, ContextSize = 512, MaxOutputTokens = _options.MaxTokens, MaxPromptTokens = 256 }, cancellationToken).ConfigureAwait(false);

    private static async Task Require(Task<EconomicResult> operation) => Require(await operation.ConfigureAwait(false));

    /// <summary>Throws unless a genesis operation was applied.</summary>
    internal static void Require(EconomicResult result)
    {
        if (!result.IsApplied)
        {
            throw new InvalidOperationException($"Genesis operation refused: {result.Status} {result.Detail}");
        }
    }

    private sealed class NodeState(string name, Ed25519KeyPair key, bool cheats)
    {
        public int Served;

        public string Name { get; } = name;

        public Ed25519KeyPair Key { get; } = key;

        public bool Cheats { get; } = cheats;

        public Multiaddr? Address { get; set; }

        public TokenAmount Stake { get; set; }

        public TokenAmount BalanceBefore { get; set; }

        public int Audits { get; set; }

        public int Frauds { get; set; }
    }
}
