using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoIP.Core.Economics;
using PoIP.Core.Engine;
using PoIP.Economics.Embedded;
using PoIP.Hosting.Client;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// <c>services.AddPoIP(o =&gt; o.KeyFile = ...)</c> and its builder: pick the parts
/// (<see cref="AddLlamaEngine"/>, <see cref="AddLibp2p"/>, <see cref="AddEmbeddedEconomics"/>) and
/// the roles (<see cref="AddNode"/>, <see cref="AddValidator"/>, <see cref="AddClient"/>). Every
/// option is validated when the host starts (<c>ValidateOnStart</c>); nothing is resolved here.
/// </summary>
public static class PoIPServiceCollectionExtensions
{
    /// <summary>Adds the PoIP host (identity, libp2p host, start/stop ordering) and returns its builder.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the identity.</param>
    /// <returns>The builder for the parts and roles.</returns>
    public static PoIPBuilder AddPoIP(this IServiceCollection services, Action<PoIPOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<PoIPOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PoIPOptions>, PoIPOptionsValidator>());
        services.AddOptions<Libp2pServiceOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Libp2pServiceOptions>, Libp2pServiceOptionsValidator>());
        services.TryAddSingleton<PoIPRuntime>();
        services.TryAddSingleton<ValidatorHolder>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, PoIPHostedService>());
        return new PoIPBuilder(services);
    }

    /// <summary>Configures the libp2p host (listen addresses, limits).</summary>
    public static PoIPBuilder AddLibp2p(this PoIPBuilder builder, Action<Libp2pServiceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Joins the transaction layer: a Kademlia DHT on this host's libp2p host, with PoIP's record namespace. With it a
    /// node provides its model and advertises its capability record (republished before expiry) and puts its
    /// transaction record after each served request; a client finds nodes by model through the DHT when it was given
    /// no node addresses (<see cref="DhtNodeDirectory"/>) and records its own transaction record; a validator (in
    /// server mode) slashes equivocation and draws audits from the records that reach it (<see cref="Validation.DhtAuditFeed"/>).
    /// The DHT starts after libp2p listens; the started DHT and ledger are on <see cref="PoIPRuntime"/>.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Bootstrap peers, protocol id, mode, quorum.</param>
    /// <param name="create">
    /// Creates and starts the DHT (an integrator's own <see cref="IKademliaDht"/>); default: <c>KademliaDht.Create</c> then <c>StartAsync</c>.
    /// The host disposes it when it is <see cref="IAsyncDisposable"/>.
    /// </param>
    public static PoIPBuilder AddDht(this PoIPBuilder builder, Action<PoIPDhtOptions> configure, Func<Network.Libp2pHost, KademliaOptions, CancellationToken, ValueTask<IKademliaDht>>? create = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<PoIPDhtOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PoIPDhtOptions>, PoIPDhtOptionsValidator>());
        builder.Services.RemoveAll<DhtFactory>();
        builder.Services.AddSingleton(create is null ? new DhtFactory(DhtFactory.CreateKademliaAsync) : new DhtFactory((host, options, _, ct) => create(host, options, ct)));
        return builder;
    }

    /// <summary>
    /// Serves inference with llama.cpp (LLamaSharp); the application references a native backend package.
    /// The engine logs through the host's <see cref="ILoggerFactory"/> and publishes its instruments
    /// (meter <see cref="LlamaInferenceEngine.MeterName"/>) through the host's <see cref="IMeterFactory"/> when they are registered.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the engine's options (bound as <see cref="LlamaEngineOptions"/>, validated at start).</param>
    /// <param name="knownAnswer">Sets the known-answer gate (policy, stories260K file); null: its defaults.</param>
    public static PoIPBuilder AddLlamaEngine(this PoIPBuilder builder, Action<LlamaEngineOptions> configure, Action<KnownAnswerGateOptions>? knownAnswer = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<LlamaEngineOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LlamaEngineOptions>, LlamaEngineOptionsValidator>());
        AddKnownAnswerGate(builder.Services, knownAnswer ?? (_ => { }));
        builder.Services.RemoveAll<EngineSource>();
        builder.Services.AddSingleton(new EngineSource(
            async (sp, ct) => await LlamaInferenceEngine.LoadAsync(
                sp.GetRequiredService<IOptions<LlamaEngineOptions>>().Value,
                sp.GetService<ILoggerFactory>()?.CreateLogger<LlamaInferenceEngine>(),
                sp.GetService<IMeterFactory>(),
                ct).ConfigureAwait(false),
            isLlama: true,
            sp => VerifierCalibration.ForModel(sp.GetRequiredService<IOptions<LlamaEngineOptions>>().Value.ModelPath)));
        return builder;
    }

    private static void AddKnownAnswerGate(IServiceCollection services, Action<KnownAnswerGateOptions> configure)
    {
        services.AddOptions<KnownAnswerGateOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KnownAnswerGateOptions>, KnownAnswerGateOptionsValidator>());
    }

    /// <summary>
    /// Serves inference with any <see cref="IInferenceEngine"/> (an integrator's adapter). The host owns
    /// and disposes the engine. The known-answer gate runs on it only when it serves stories260K.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="load">Creates the engine when the host starts.</param>
    /// <param name="knownAnswer">What to do when the known-answer test cannot run on this engine.</param>
    /// <param name="verifierOptions">
    /// The options a validator re-executes with on this engine (e.g. <c>VerifierCalibration.ForModel</c>
    /// for a llama.cpp model file); null: <see cref="ReexecutionVerifierOptions"/>' defaults.
    /// </param>
    public static PoIPBuilder AddEngine(this PoIPBuilder builder, Func<IServiceProvider, CancellationToken, ValueTask<IInferenceEngine>> load, KnownAnswerPolicy knownAnswer = KnownAnswerPolicy.IfAvailable, Func<IServiceProvider, ReexecutionVerifierOptions>? verifierOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(load);
        builder.Services.RemoveAll<EngineSource>();
        builder.Services.AddSingleton(new EngineSource(load, isLlama: false, verifierOptions ?? (_ => new ReexecutionVerifierOptions())));
        AddKnownAnswerGate(builder.Services, o => o.Policy = knownAnswer);
        return builder;
    }

    /// <summary>Uses the embedded SQLite ledger (stake, escrow, slashing) as the host's <see cref="IStakeManager"/>.</summary>
    public static PoIPBuilder AddEmbeddedEconomics(this PoIPBuilder builder, Action<EmbeddedEconomicsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<EmbeddedEconomicsOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EmbeddedEconomicsOptions>, EmbeddedEconomicsOptionsValidator>());
        builder.Services.TryAddSingleton(sp => OpenShared(sp.GetRequiredService<IOptions<EmbeddedEconomicsOptions>>().Value));
        builder.Services.TryAddSingleton<IStakeManager>(sp => sp.GetRequiredService<EmbeddedStakeManager>());
        return builder;
    }

    /// <summary>
    /// Uses PoIPLedger on an EVM chain as the host's <see cref="IStakeManager"/>, acting with
    /// <see cref="EvmEconomicsOptions.AccountPrivateKey"/> for the host's own peer id (connected when
    /// the host starts; a chain that cannot be reached fails the start with <see cref="PoIPStartupException"/>).
    /// </summary>
    public static PoIPBuilder AddEvmEconomics(this PoIPBuilder builder, Action<EvmEconomicsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<EvmEconomicsOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EvmEconomicsOptions>, EvmEconomicsOptionsValidator>());
        builder.Services.TryAddSingleton<EvmConnection>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupConnection, EvmConnection>(sp => sp.GetRequiredService<EvmConnection>()));
        builder.Services.TryAddSingleton(sp => sp.GetRequiredService<EvmConnection>().Manager);
        builder.Services.TryAddSingleton<IStakeManager>(sp => sp.GetRequiredService<Economics.Evm.EvmStakeManager>());
        return builder;
    }

    /// <summary>
    /// Opens a ledger that other processes may be creating at the same moment: when two processes open a
    /// new file together, both see an empty journal and the slower one's genesis is refused as a
    /// duplicate (measured: 4 of 15 processes in 5 rounds of 3). By then the file holds genesis, so a
    /// second open succeeds; a genuinely invalid ledger fails the same way twice.
    /// </summary>
    private static EmbeddedStakeManager OpenShared(EmbeddedEconomicsOptions options)
    {
        try
        {
            return EmbeddedStakeManager.Open(options);
        }
        catch (ArgumentException) when (options.DatabasePath != ":memory:" && File.Exists(options.DatabasePath))
        {
            return EmbeddedStakeManager.Open(options);
        }
    }

    /// <summary>
    /// Local development only: tops this identity's ledger account up (minting) and stakes before the
    /// roles start, so a hand-started network works without a faucet. Needs the embedded ledger.
    /// </summary>
    public static PoIPBuilder AddDevFunding(this PoIPBuilder builder, Action<DevFundingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        builder.Services.TryAddSingleton<DevFundingMarker>();
        return builder;
    }

    /// <summary>
    /// The inference-node role: serves <c>/poip/infer/1.0.0</c> once the known-answer gate and the
    /// minimum-stake check pass (else the host fails to start with <see cref="PoIPStartupException"/>);
    /// re-checks the stake before every request.
    /// </summary>
    public static PoIPBuilder AddNode(this PoIPBuilder builder, Action<PoIPNodeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<PoIPNodeOptions>().Configure(configure ?? (_ => { })).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PoIPNodeOptions>, PoIPNodeOptionsValidator>());
        builder.Services.AddSingleton(new RoleMarker("node"));
        return builder;
    }

    /// <summary>The validator role: serves <c>/poip/audit/1.0.0</c>, re-executes the receipts its draw selects, slashes fraud.</summary>
    public static PoIPBuilder AddValidator(this PoIPBuilder builder, Action<PoIPValidatorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<PoIPValidatorOptions>().Configure(configure ?? (_ => { })).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PoIPValidatorOptions>, PoIPValidatorOptionsValidator>());
        builder.Services.AddSingleton(new RoleMarker("validator"));
        return builder;
    }

    /// <summary>
    /// The client role: registers <see cref="PoIPClient"/> (resolve it after the host started) over this
    /// host's libp2p host, identity and ledger. Without node addresses and with <see cref="AddDht"/>, it finds nodes
    /// in the DHT (<see cref="DhtNodeDirectory"/>); with the DHT it records its own transaction records there, and
    /// without validator addresses it hands its answers to the model's validators it finds there.
    /// </summary>
    public static PoIPBuilder AddClient(this PoIPBuilder builder, Action<PoIPClientServiceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<PoIPClientServiceOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PoIPClientServiceOptions>, PoIPClientServiceOptionsValidator>());
        builder.Services.AddSingleton(new RoleMarker("client"));
        builder.Services.TryAddSingleton(sp =>
        {
            var runtime = sp.GetRequiredService<PoIPRuntime>();
            var options = sp.GetRequiredService<IOptions<PoIPClientServiceOptions>>().Value;
            return new PoIPClient(new PoIPClientOptions
            {
                Key = runtime.Key ?? throw new InvalidOperationException("The PoIP host has not started yet (start the IHost before resolving PoIPClient)."),
                Host = runtime.RequireHost(),
                Nodes = [.. options.Nodes.Select(Multiaddr.Parse)],
                Directory = options.Nodes.Count == 0 && runtime.Dht is { } dht
                    ? new DhtNodeDirectory(dht, new DhtNodeDirectoryOptions { TimeProvider = sp.GetService<TimeProvider>() ?? TimeProvider.System })
                    : null,
                Ledger = runtime.TransactionLedger,
                Validators = [.. options.Validators.Select(Multiaddr.Parse)],
                ValidatorDirectory = options.Validators.Count == 0 && options.FindValidators && runtime.Dht is { } validatorDht ? new DhtValidatorDirectory(validatorDht) : null,
                Stakes = sp.GetRequiredService<IStakeManager>(),
                AttemptTimeout = options.AttemptTimeout,
                Selection = options.Selection,
                Hedging = options.Hedging,
                HedgeAfter = options.HedgeAfter,
                HedgeQuantile = options.HedgeQuantile,
                MinHedgeDelay = options.MinHedgeDelay,
                MaxHedgeDelay = options.MaxHedgeDelay,
                TimeProvider = sp.GetService<TimeProvider>() ?? TimeProvider.System,
            });
        });
        return builder;
    }

    /// <summary>
    /// Wraps the engine the node serves on <c>/poip/infer/1.0.0</c> (metering, tracing, or a
    /// demonstration cheat from PoIP.Testing); the known-answer gate and a validator use the engine
    /// itself. Several decorators apply in the order they were added, the first innermost.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="decorate">Returns the engine to serve, given the loaded one; the host disposes the loaded engine only.</param>
    public static PoIPBuilder DecorateServedEngine(this PoIPBuilder builder, Func<IInferenceEngine, IInferenceEngine> decorate)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(decorate);
        builder.Services.AddSingleton(new ServedEngineDecorator(decorate));
        return builder;
    }
}
