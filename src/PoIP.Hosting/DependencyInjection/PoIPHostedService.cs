using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PoIP.Core.Economics;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Economics.Embedded;
using PoIP.Hosting.Validation;
using PoIP.Inference.Commitments;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.AuditProtocol;
using PoIP.Network.InferProtocol;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// Starts a PoIP host in a fixed order whatever the order of the <c>Add*</c> calls: identity, dev
/// funding, engine, the node's gates (known-answer test, minimum stake), the protocol handlers, and
/// last the libp2p listener; stops in reverse. A refused gate throws <see cref="PoIPStartupException"/>
/// from <c>StartAsync</c>, so the host never listens.
/// </summary>
internal sealed class PoIPHostedService(IServiceProvider services, PoIPRuntime runtime, IOptions<PoIPOptions> options, IOptions<Libp2pServiceOptions> libp2pOptions) : IHostedService
{
    private readonly ILogger _logger = services.GetService<ILoggerFactory>()?.CreateLogger("PoIP.Hosting") ?? NullLogger.Instance;
    private readonly List<IAsyncDisposable> _owned = [];
    private Ed25519KeyPair? _ownedKey;
    private volatile DhtPublisher? _publisher;
    private DhtAuditFeed? _auditFeed;
    private Core.Hashing.ModelId? _validatorModel;
    private TranscriptStore? _transcripts;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StartCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync().ConfigureAwait(false);
        }

        _owned.Clear();
        _publisher = null;
        _auditFeed = null;
        _transcripts = null;
        runtime.Dht = null;
        runtime.TransactionLedger = null;
        runtime.DhtAudits = null;
        runtime.Host = null;
        runtime.Engine = null;
        if (_ownedKey is not null)
        {
            runtime.Key = null; // read from the key file by this host: disposed with it
            _ownedKey.Dispose();
            _ownedKey = null;
        }
        Log.Stopped(_logger);
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var roles = services.GetServices<RoleMarker>().Select(r => r.Role).Distinct().ToList();
        bool node = roles.Contains("node"), validator = roles.Contains("validator");
        var key = options.Value.Key;
        if (key is null)
        {
            key = _ownedKey = KeyFile.ReadOrCreate(options.Value.KeyFile!);
        }

        runtime.Key = key;
        foreach (var connection in services.GetServices<IStartupConnection>())
        {
            await connection.ConnectAsync(key, cancellationToken).ConfigureAwait(false);
        }

        var stakes = services.GetService<IStakeManager>();
        if ((node || validator || roles.Contains("client")) && stakes is null)
        {
            throw new PoIPStartupException("hosting.no_ledger", $"The {string.Join(" + ", roles)} role needs an IStakeManager (stake checks, escrow, slashing): call AddEmbeddedEconomics(...) or register one.");
        }

        if (services.GetService<DevFundingMarker>() is not null)
        {
            var faucet = stakes as IDevFaucet
                ?? throw new PoIPStartupException("hosting.dev_funding_failed", "Dev funding needs a development ledger (an IStakeManager that is an IDevFaucet: the embedded ledger, a local dev chain).");
            string detail = await DevFunding.ApplyAsync(stakes!, faucet, key.PeerId, services.GetRequiredService<IOptions<DevFundingOptions>>().Value, cancellationToken).ConfigureAwait(false);
            Log.DevFunded(_logger, key.PeerId.ToString(), detail);
        }

        IInferenceEngine? engine = null;
        if (node || validator)
        {
            var source = services.GetService<EngineSource>()
                ?? throw new PoIPStartupException("hosting.no_engine", "A node or validator needs an engine: call AddLlamaEngine(...) or AddEngine(...).");
            engine = await source.LoadAsync(services, cancellationToken).ConfigureAwait(false);
            _owned.Add(engine);
            runtime.Engine = engine;
        }

        var hostOptions = new Libp2pHostOptions { Key = key, MaxConnections = libp2pOptions.Value.MaxConnections, DialTimeout = libp2pOptions.Value.DialTimeout };
        foreach (string address in libp2pOptions.Value.ListenAddresses.DefaultIfEmpty("/ip4/127.0.0.1/tcp/0"))
        {
            hostOptions.ListenAddresses.Add(Multiaddr.Parse(address));
        }

        var host = Libp2pHost.Create(hostOptions, services.GetService<ILoggerFactory>(), services.GetService<IMeterFactory>());
        _owned.Add(host);

        if (node)
        {
            await ConfigureNodeAsync(host, engine!, stakes!, key, cancellationToken).ConfigureAwait(false);
        }

        if (validator)
        {
            await ConfigureValidatorAsync(host, engine!, stakes!, key, cancellationToken).ConfigureAwait(false);
        }

        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        runtime.Host = host;
        if (services.GetService<DhtFactory>() is { } dhtFactory)
        {
            await StartDhtAsync(host, dhtFactory, node ? engine : null, stakes, key, cancellationToken).ConfigureAwait(false);
        }

        Log.Started(_logger, roles.Count == 0 ? "libp2p host" : string.Join(" + ", roles), key.PeerId.ToString(), string.Join(", ", host.ListenAddresses));
    }

    private async Task ConfigureNodeAsync(Libp2pHost host, IInferenceEngine engine, IStakeManager stakes, Ed25519KeyPair key, CancellationToken cancellationToken)
    {
        var source = services.GetRequiredService<EngineSource>();
        var llama = source.IsLlama ? services.GetRequiredService<IOptions<LlamaEngineOptions>>().Value : null;
        var gate = services.GetService<IOptions<KnownAnswerGateOptions>>()?.Value ?? new KnownAnswerGateOptions();
        var report = await KnownAnswerGate.DecideAsync(engine, llama, gate.ModelPath, gate.Policy, cancellationToken).ConfigureAwait(false);
        runtime.KnownAnswer = report;
        if (!report.MayServe)
        {
            throw new PoIPStartupException("node.known_answer_failed", $"This node must not serve: known-answer test {report.Detail}");
        }

        if (report.Ran)
        {
            Log.KnownAnswerPassed(_logger, report.Detail);
        }
        else
        {
            Log.KnownAnswerNotRun(_logger, report.Detail);
        }

        if (!await stakes.CanServeAsync(key.PeerId, cancellationToken).ConfigureAwait(false))
        {
            var stake = await stakes.GetStakeAsync(key.PeerId, cancellationToken).ConfigureAwait(false);
            throw new PoIPStartupException("node.below_minimum_stake", $"Node {key.PeerId} has {stake.Bonded} bonded, below the ledger's minimum stake to serve: stake first (e.g. 'poip node run --dev' on a local ledger).");
        }

        var nodeOptions = services.GetRequiredService<IOptions<PoIPNodeOptions>>().Value;
        var served = services.GetServices<ServedEngineDecorator>().Aggregate(engine, (inner, decorator) => decorator.Decorate(inner));
        var service = new InferenceService(new InferenceServiceOptions
        {
            NodeKey = key,
            Engine = served,
            Commitments = new ActivationCommitmentScheme(),
            Policy = new AdmissionPolicy
            {
                Models = new HashSet<ModelId> { engine.Model.Id },
                PricePerToken = nodeOptions.PricePerToken,
                MaxPromptBytes = nodeOptions.MaxPromptBytes,
                MaxOutputTokens = llama is null ? nodeOptions.MaxOutputTokens : Math.Min(nodeOptions.MaxOutputTokens, llama.MaxOutputTokens),
                MaxExpiryHorizon = nodeOptions.MaxExpiryHorizon,
            },
            ServingCheck = new ServingGate(stakes, key.PeerId, services.GetService<TimeProvider>() ?? TimeProvider.System, _logger).CheckAsync,
            TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System,
        });
        PaymentClaims? claims = null;
        if (nodeOptions.ClaimPayments)
        {
            var window = (await stakes.GetRulesAsync(cancellationToken).ConfigureAwait(false)).DisputeWindow;
            var store = new PaymentClaimStore(nodeOptions.PaymentClaimsDirectory ?? DefaultClaimsDirectory(options.Value.KeyFile));
            claims = new PaymentClaims(stakes, services.GetService<TimeProvider>() ?? TimeProvider.System, window, store, runtime, _logger);
            _owned.Add(claims);
        }

        if (nodeOptions.ServeTranscripts)
        {
            string? transcriptsDirectory = nodeOptions.TranscriptsDirectory ?? BesideKeyFile(options.Value.KeyFile, ".transcripts");
            var transcripts = _transcripts = new TranscriptStore(nodeOptions.MaxTranscripts, 256L << 20, transcriptsDirectory, problem => Log.ServeFailed(_logger, "transcript store: " + problem));
            host.SetHandler(TranscriptWire.ProtocolId, (stream, ct) => ServeTranscriptAsync(transcripts, stakes, stream, ct));
        }

        host.SetHandler(InferenceService.ProtocolId, async (stream, ct) =>
        {
            try
            {
                var result = await service.ServeAsync(stream, ct).ConfigureAwait(false);
                if (result.Served)
                {
                    claims?.Add(result.Request!, result.Receipt!);
                    AddTranscript(result);
                    _publisher?.RecordServed(result.Request!, result.Receipt!);
                }

                runtime.OnHandled(result.Served, result.Detail);
                if (!result.Served)
                {
                    Log.Refused(_logger, result.Detail);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or Libp2pException)
            {
                Log.ServeFailed(_logger, ex.Message);
            }
        });
    }

    /// <summary>Keeps a served transcript; a disk fault loses only that transcript (logged), never the answer.</summary>
    private void AddTranscript(ServedRequest served)
    {
        try
        {
            _transcripts?.Add(served);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.ServeFailed(_logger, "transcript not kept: " + ex.Message);
        }
    }

    /// <summary>
    /// One transcript request: only a validator registered on the ledger gets one (a transcript holds the client's
    /// prompt); anyone else, and any receipt not held, gets "not held".
    /// </summary>
    private async Task ServeTranscriptAsync(TranscriptStore transcripts, IStakeManager stakes, Libp2pStream stream, CancellationToken cancellationToken)
    {
        try
        {
            var receipt = await TranscriptWire.ReadRequestAsync(stream, cancellationToken).ConfigureAwait(false);
            if (receipt is not { } id)
            {
                return;
            }

            var found = transcripts.Find(id);
            if (found is not null && !await stakes.IsValidatorAsync(stream.RemotePeer, cancellationToken).ConfigureAwait(false))
            {
                found = null;
            }

            await TranscriptWire.WriteReplyAsync(stream, found, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PoIPDecodeException or IOException or OperationCanceledException or Libp2pException)
        {
            stream.Reset();
            Log.ServeFailed(_logger, "transcript: " + ex.Message);
        }
    }

    private async Task StartDhtAsync(Libp2pHost host, DhtFactory factory, IInferenceEngine? servedEngine, IStakeManager? stakes, Ed25519KeyPair key, CancellationToken cancellationToken)
    {
        var dhtOptions = services.GetRequiredService<IOptions<PoIPDhtOptions>>().Value;
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var kademlia = new KademliaOptions { ProtocolId = dhtOptions.ProtocolId, Mode = dhtOptions.Mode, DatabasePath = dhtOptions.DatabasePath };
        foreach (string address in dhtOptions.Bootstrap)
        {
            kademlia.BootstrapPeers.Add(Multiaddr.Parse(address));
        }

        kademlia.UsePoIPRecords();
        if (_auditFeed is { } feed)
        {
            kademlia.RecordStored = feed.OnRecordStoredAsync;
            runtime.DhtAudits = feed;
        }

        if (dhtOptions.StakeGated && stakes is not null)
        {
            kademlia.AdmitPeer = async (peer, ct) => (await stakes.GetStakeAsync(peer, ct).ConfigureAwait(false)).Bonded > Core.Money.TokenAmount.Zero;
        }

        var dht = await factory.Create(host, kademlia, services, cancellationToken).ConfigureAwait(false);
        if (dht is IAsyncDisposable disposable)
        {
            _owned.Add(disposable);
        }

        var ledger = new DhtTransactionLedger(dht, new DhtTransactionLedgerOptions { Quorum = dhtOptions.Quorum, TimeProvider = time });
        runtime.Dht = dht;
        runtime.TransactionLedger = ledger;
        if (_auditFeed is { } audits && services.GetRequiredService<ValidatorHolder>().Service is { } validatorService)
        {
            _owned.Add(new DhtTranscriptAuditor(audits, validatorService, dht, host, ledger, services.GetRequiredService<IOptions<PoIPValidatorOptions>>().Value, time, _logger));
        }

        if (_validatorModel is { } validatedModel)
        {
            _owned.Add(new DhtValidatorAnnouncer(dht, validatedModel, time, _logger));
        }

        Log.DhtStarted(_logger, dhtOptions.ProtocolId, dhtOptions.Mode.ToString(), dhtOptions.Bootstrap.Count);
        if (servedEngine is not null)
        {
            var nodeOptions = services.GetRequiredService<IOptions<PoIPNodeOptions>>().Value;
            var publisher = new DhtPublisher(dht, ledger, key, servedEngine, nodeOptions.PricePerToken, runtime.KnownAnswer, dhtOptions.CapabilityLifetime, time, _logger);
            _owned.Add(publisher);
            await publisher.StartAsync(cancellationToken).ConfigureAwait(false);
            _publisher = publisher;
        }
    }

    /// <summary>Beside the key file (<c>node.key</c> → <c>node.payment-claims</c>); null (memory only) without one.</summary>
    private static string? DefaultClaimsDirectory(string? keyFile) => BesideKeyFile(keyFile, ".payment-claims");

    /// <summary><c>node.key</c> → <c>node&lt;suffix&gt;</c> in the key file's folder; null without a key file.</summary>
    private static string? BesideKeyFile(string? keyFile, string suffix) =>
        keyFile is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(keyFile))!, Path.GetFileNameWithoutExtension(keyFile) + suffix);

    private async Task ConfigureValidatorAsync(Libp2pHost host, IInferenceEngine engine, IStakeManager stakes, Ed25519KeyPair key, CancellationToken cancellationToken)
    {
        var validatorOptions = services.GetRequiredService<IOptions<PoIPValidatorOptions>>().Value;
        if (validatorOptions.RequireRegistration && (await stakes.GetRulesAsync(cancellationToken).ConfigureAwait(false)).RequireRegisteredValidator && !await stakes.IsValidatorAsync(key.PeerId, cancellationToken).ConfigureAwait(false))
        {
            throw new PoIPStartupException("validator.not_registered", $"Validator {key.PeerId} is not registered on the ledger, so its fraud verdicts could not slash: bond the minimum stake and register (e.g. 'poip validator run --dev' on a local ledger).");
        }

        var verifier = new ReexecutionVerifier(engine, services.GetRequiredService<EngineSource>().VerifierOptions(services));
        var validatorService = new ValidatorService(new ValidatorServiceOptions
        {
            Key = key,
            Verifier = verifier,
            Stakes = stakes,
            AuditProbability = AuditSelectionProbability.FromDouble(validatorOptions.AuditProbability),
            MaxPromptBytes = validatorOptions.MaxPromptBytes,
            TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System,
        });
        if (services.GetService<DhtFactory>() is not null)
        {
            _auditFeed = new DhtAuditFeed(new ValidatorServiceOptions
            {
                Key = key,
                Verifier = verifier,
                Stakes = stakes,
                AuditProbability = AuditSelectionProbability.FromDouble(validatorOptions.AuditProbability),
                TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System,
            });
            _auditFeed.Audited += (_, audit) => Log.DhtAudit(_logger, audit.Request.ToString()[..16], audit.Equivocation
                ? $"node {audit.Node} signed two receipts: equivocation evidence submitted, slash {audit.Slash?.Status}"
                : $"receipt of node {audit.Node} drawn: {(audit.Ticket!.Selected ? "selected (awaiting its transcript)" : "not selected")}");
        }

        validatorService.Audited += (_, outcome) => Log.Audited(_logger, outcome.Verdict is null ? outcome.Detail : $"{outcome.Verdict.Message.Outcome} for {outcome.Verdict.Message.NodeId}: {outcome.Detail}");
        services.GetRequiredService<ValidatorHolder>().Service = validatorService;
        _validatorModel = engine.Model.Id;
        host.SetHandler(AuditWire.ProtocolId, (stream, ct) => validatorService.HandleAsync(stream, ct));
    }
}

/// <summary>Marks that dev funding was asked for.</summary>
internal sealed class DevFundingMarker;

/// <summary>The validator service of a started host.</summary>
internal sealed class ValidatorHolder
{
    public ValidatorService? Service { get; set; }
}
