using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;
using PoIP.Hosting.DependencyInjection;
using PoIP.Testing.LocalNetwork;
using PoIP.Inference.Gguf;
using PoIP.Inference.Llama;
using PoIP.Network.InferProtocol;

namespace PoIP.Hosting.Tests;

/// <summary>
/// Hosts composed with <c>services.AddPoIP(...)</c> under Microsoft.Extensions.Hosting, every part
/// real (llama.cpp on stories260K, libp2p on loopback, the SQLite ledger shared by the roles).
/// </summary>
public sealed class DependencyInjectionTests : IDisposable
{
    private readonly HostingFixture _fixture = new();

    [Fact]
    public async Task AddPoIP_NodeValidatorClient_ServeARealRequestOverLibp2p_AndStopCleanly()
    {
        using var node = _fixture.Build("node", poip =>
        {
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o => o.Stake = TokenAmount.FromTokens(150)).AddNode(o => o.MaxOutputTokens = 64);
        });
        using var validator = _fixture.Build("validator", poip =>
        {
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o =>
            {
                o.Stake = TokenAmount.FromTokens(100);
                o.RegisterValidator = true;
            }).AddValidator(o => o.AuditProbability = 1.0);
        });
        await node.StartAsync();
        await validator.StartAsync();
        var nodeRuntime = node.Services.GetRequiredService<PoIPRuntime>();
        var validatorRuntime = validator.Services.GetRequiredService<PoIPRuntime>();
        Assert.True(nodeRuntime.KnownAnswer!.Ran && nodeRuntime.KnownAnswer.MayServe, nodeRuntime.KnownAnswer.Detail);
        Assert.Contains(InferenceService.ProtocolId, nodeRuntime.RequireHost().Protocols);
        Assert.Contains("/poip/audit/1.0.0", validatorRuntime.RequireHost().Protocols);

        using var clientHost = _fixture.Build("client", poip => poip
            .AddDevFunding(o => o.Balance = TokenAmount.FromTokens(10))
            .AddClient(o =>
            {
                o.Nodes.Add(nodeRuntime.ListenAddresses[0].ToString());
                o.Validators.Add(validatorRuntime.ListenAddresses[0].ToString());
            }));
        await clientHost.StartAsync();
        var client = clientHost.Services.GetRequiredService<PoIPClient>();
        var served = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        nodeRuntime.RequestHandled += (_, detail) => served.TrySetResult(detail);

        var model = await ModelId.FromFileAsync(HostingFixture.Stories);
        var answer = await client.AskAsync("Once upon a time", new AskOptions(model, new SamplingParameters(), 7, 24, TokenAmount.ParseTokens("0.024")));

        Assert.Null(await served.Task); // the node reports a served request (no refusal detail)
        Assert.Equal(nodeRuntime.PeerId!.Value, answer.Node);
        Assert.Equal(nodeRuntime.PeerId.Value, answer.Receipt.Signer);
        Assert.Equal(24, answer.OutputTokens.Count);
        Assert.False(string.IsNullOrWhiteSpace(answer.Text));
        var audit = await answer.Audit; // runs after the answer
        Assert.True(audit.Reply!.Selected);
        Assert.Equal(ClientAuditStatus.Valid, audit.Status);
        Assert.Equal(VerdictOutcome.Valid, SignedMessage.Open<Verdict>(audit.Reply.VerdictEnvelope).Message.Outcome);
        Assert.Equal(1, nodeRuntime.Served);

        var stakes = clientHost.Services.GetRequiredService<Core.Economics.IStakeManager>();
        var escrow = await stakes.GetEscrowAsync(answer.Receipt.Message.RequestId);
        Assert.Equal(Core.Economics.EscrowState.Open, escrow!.State); // paid after the dispute window

        await clientHost.StopAsync();
        await validator.StopAsync();
        await node.StopAsync();
        Assert.Null(nodeRuntime.Host);
        Assert.Null(nodeRuntime.Engine);
    }

    [Fact]
    public async Task AddLlamaEngine_HostLoggerAndMeterFactory_ReachTheEngine()
    {
        var logs = new CapturingLoggerProvider();
        using var node = _fixture.Build("observed-node", poip =>
        {
            poip.Services.AddMetrics();
            poip.Services.AddLogging(b => b.AddProvider(logs));
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o => o.Stake = TokenAmount.FromTokens(150)).AddNode(o => o.MaxOutputTokens = 64);
        });
        var factory = node.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        long generated = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LlamaInferenceEngine.MeterName && ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == "poip.inference.tokens.generated")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref generated, value));
        listener.Start();

        await node.StartAsync();
        var engine = node.Services.GetRequiredService<PoIPRuntime>().Engine!;
        int tokens = 0;
        await foreach (var _ in engine.GenerateAsync(new Core.Engine.GenerationRequest(engine.Tokenize("Once upon a time", true), SamplingParameters.Greedy, 1, 12)))
        {
            tokens++;
        }

        Assert.Equal(12, tokens);
        Assert.Equal(12, Interlocked.Read(ref generated));
        Assert.Contains(logs.Lines, l => l.Category == typeof(LlamaInferenceEngine).FullName && l.Message.StartsWith("llama.cpp engine loaded", StringComparison.Ordinal));
        await node.StopAsync();
    }

    private sealed class CapturingLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<(string Category, string Message)> Lines { get; } = new();

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : Microsoft.Extensions.Logging.ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue((category, formatter(state, exception)));
        }
    }

    [Fact]
    public async Task Node_AfterTheDisputeWindow_ClaimsItsPayment()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var node = _fixture.Build("claiming-node", poip =>
        {
            poip.Services.AddSingleton<TimeProvider>(clock);
            poip.Services.Configure<Economics.Embedded.EmbeddedEconomicsOptions>(o => o.TimeProvider = clock);
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o => o.Stake = TokenAmount.FromTokens(150)).AddNode(o => o.MaxOutputTokens = 64);
        });
        await node.StartAsync();
        var runtime = node.Services.GetRequiredService<PoIPRuntime>();
        using var clientHost = _fixture.Build("paying-client", poip => poip
            .AddDevFunding(o => o.Balance = TokenAmount.FromTokens(10))
            .AddClient(o => o.Nodes.Add(runtime.ListenAddresses[0].ToString())));
        await clientHost.StartAsync();
        var served = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var claimed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        runtime.RequestHandled += (_, detail) => served.TrySetResult(detail);
        runtime.PaymentClaimed += (_, paid) => claimed.TrySetResult(paid);
        var stakes = node.Services.GetRequiredService<Core.Economics.IStakeManager>();
        var before = await stakes.GetBalanceAsync(runtime.PeerId!.Value);

        var answer = await clientHost.Services.GetRequiredService<PoIPClient>().AskAsync("Once upon a time", new AskOptions(await ModelId.FromFileAsync(HostingFixture.Stories), new SamplingParameters(), 3, 16, TokenAmount.ParseTokens("0.016")));
        Assert.Null(await served.Task);
        Assert.False(claimed.Task.IsCompleted); // not before the window

        clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(2));
        Assert.True(await claimed.Task);

        var escrow = await stakes.GetEscrowAsync(answer.Receipt.Message.RequestId);
        Assert.Equal(Core.Economics.EscrowState.Settled, escrow!.State);
        Assert.True(await stakes.GetBalanceAsync(runtime.PeerId.Value) > before, "the node was paid");
        Assert.Equal(1, runtime.PaymentsClaimed);
        await clientHost.StopAsync();
        await node.StopAsync();
    }

    [Fact]
    public async Task Start_InvalidOptions_FailsWithAMessagePerProblem()
    {
        using var host = _fixture.Build("bad", poip => poip
            .AddLibp2p(o => o.ListenAddresses.Add("/ip4/127.0.0.1/udp/4001"))
            .AddLlamaEngine(o => o.ModelPath = Path.Combine(_fixture.Directory, "missing.gguf"))
            .AddValidator(o => o.AuditProbability = 1.5)
            .AddClient(o => o.Nodes.Add("/ip4/127.0.0.1/tcp/4001")));

        var ex = await Assert.ThrowsAsync<AggregateException>(() => host.StartAsync());

        // One OptionsValidationException per invalid options type, each naming its problem.
        Assert.All(ex.InnerExceptions, e => Assert.IsType<OptionsValidationException>(e));
        string all = string.Join("\n", ex.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures));
        Assert.Contains("cannot listen on '/ip4/127.0.0.1/udp/4001'", all);
        Assert.Contains("missing.gguf' does not exist", all);
        Assert.Contains("AuditProbability must be in [0, 1] (got 1.5)", all);
        Assert.Contains("not a multiaddr ending in /p2p/<peer id>", all);
        Assert.Null(host.Services.GetRequiredService<PoIPRuntime>().Host);
    }

    [Fact]
    public async Task Start_InvalidLlamaEngineOptionsAndKnownAnswerModel_FailsNamingEach()
    {
        using var host = _fixture.Build("bad-llama", poip => poip
            .AddLlamaEngine(
                o => { o.ModelPath = HostingFixture.Stories; o.ContextSize = 8; },
                kat => kat.ModelPath = Path.Combine(_fixture.Directory, "no-stories.gguf")));

        var ex = await Assert.ThrowsAsync<AggregateException>(() => host.StartAsync());

        // LlamaEngineOptions bound as-is: its own Validate() speaks, before any engine loads.
        string all = string.Join("\n", ex.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures));
        Assert.Contains("llama engine: context size must be in [16, 131072], got 8.", all);
        Assert.Contains("known-answer model '", all);
        Assert.Null(host.Services.GetRequiredService<PoIPRuntime>().Engine);
    }

    [Fact]
    public void AddLlamaEngine_Configure_BindsLlamaEngineOptionsItself()
    {
        var services = new ServiceCollection();
        services.AddPoIP(o => o.KeyFile = "k").AddLlamaEngine(o => { o.ModelPath = HostingFixture.Stories; o.MaxConcurrentSequences = 3; o.FlashAttention = true; }, kat => kat.Policy = KnownAnswerPolicy.Skip);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<LlamaEngineOptions>>().Value;
        Assert.Equal((HostingFixture.Stories, 3, true, 2048), (options.ModelPath, options.MaxConcurrentSequences, options.FlashAttention, options.ContextSize));
        Assert.Equal(KnownAnswerPolicy.Skip, provider.GetRequiredService<IOptions<KnownAnswerGateOptions>>().Value.Policy);
    }

    [Fact]
    public async Task Start_InvalidEvmEconomics_FailsBeforeAnyChainCall()
    {
        using var host = _fixture.Build("bad-chain", poip => poip.AddEvmEconomics(o =>
        {
            o.RpcUrl = "ftp://127.0.0.1:1";
            o.ContractAddress = "0x1234";
            o.AccountPrivateKey = "not-a-key";
        }).AddClient(o => o.Nodes.Add("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")));

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string all = ex is AggregateException many ? string.Join("\n", many.InnerExceptions.Select(e => e.Message)) : ex.Message;
        Assert.Contains("RpcUrl must be an http(s) URL", all);
        Assert.Contains("AccountPrivateKey must be 32 bytes of hex", all);
        Assert.Null(host.Services.GetRequiredService<PoIPRuntime>().Host);
    }

    [Fact]
    public async Task Start_EvmChainRefusesConnections_FailsWithChainUnavailable()
    {
        // A loopback port nobody listens on: the connection is refused at once.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var host = _fixture.Build("no-chain", poip => poip.AddEvmEconomics(o =>
        {
            o.RpcUrl = $"http://127.0.0.1:{port}";
            o.ContractAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
            o.AccountPrivateKey = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcb5c5d8b3b94c1a1e";
        }).AddClient(o => o.Nodes.Add("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")));

        var ex = await Assert.ThrowsAsync<PoIPStartupException>(() => host.StartAsync());

        Assert.Equal("hosting.chain_unavailable", ex.Code);
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        Assert.Null(host.Services.GetRequiredService<PoIPRuntime>().Host);
    }

    [Fact]
    public void AddEvmEconomics_LedgerResolvedBeforeStart_SaysTheHostHasNotStarted()
    {
        var services = new ServiceCollection();
        services.AddPoIP(o => o.KeyFile = "k").AddEvmEconomics(o =>
        {
            o.RpcUrl = "http://127.0.0.1:1";
            o.ContractAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
            o.AccountPrivateKey = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcb5c5d8b3b94c1a1e";
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<Core.Economics.IStakeManager>());
        Assert.Contains("has not started yet", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_NoIdentity_FailsWithMessage()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddPoIP(_ => { });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("an identity is required", ex.Message);
    }

    [Fact]
    public async Task Start_NodeBelowMinimumStake_RefusesToServe()
    {
        using var host = _fixture.Build("poor-node", poip =>
        {
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o => o.Stake = TokenAmount.FromTokens(50)).AddNode(); // minimum is 100
        });

        var ex = await Assert.ThrowsAsync<PoIPStartupException>(() => host.StartAsync());

        Assert.Equal("node.below_minimum_stake", ex.Code);
        Assert.Contains("50", ex.Message);
        Assert.Null(host.Services.GetRequiredService<PoIPRuntime>().Host); // never listened
    }

    [Fact]
    public async Task Start_KnownAnswerFailingEngine_RefusesToServe()
    {
        using var host = _fixture.Build("bad-engine", poip => poip
            .AddEngine(async (_, ct) => new CheatingEngine(await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = HostingFixture.Stories, Threads = 1, ContextSize = 256, MaxPromptTokens = 64, MaxOutputTokens = 128, MaxConcurrentSequences = 1 }, ct), CheatKind.AlterOutput))
            .AddDevFunding(o => o.Stake = TokenAmount.FromTokens(200))
            .AddNode());

        var ex = await Assert.ThrowsAsync<PoIPStartupException>(() => host.StartAsync());

        Assert.Equal("node.known_answer_failed", ex.Code);
        Assert.Contains("tokens differ", ex.Message);
        var runtime = host.Services.GetRequiredService<PoIPRuntime>();
        Assert.Null(runtime.Host);
        Assert.False(runtime.KnownAnswer!.MayServe);
    }

    [Fact]
    public async Task Start_OtherModel_KnownAnswerRunsOnStories_OrSaysWhyNot()
    {
        string synthesized = Path.Combine(_fixture.Directory, "synth.gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 64, Layers = 2, Heads = 4, FeedForward = 128, Vocabulary = 512, Seed = 7 }, synthesized);

        // Required, no stories260K file: refuses.
        using (var required = _fixture.Build("synth-required", poip => poip
            .AddLlamaEngine(o => { o.ModelPath = synthesized; o.Threads = 1; o.ContextSize = 256; o.MaxPromptTokens = 64; o.MaxOutputTokens = 64; }, kat => kat.Policy = KnownAnswerPolicy.Required)
            .AddDevFunding(o => o.Stake = TokenAmount.FromTokens(200))
            .AddNode(o => o.MaxOutputTokens = 64)))
        {
            var ex = await Assert.ThrowsAsync<PoIPStartupException>(() => required.StartAsync());
            Assert.Contains("no stories260K file is configured", ex.Message);
        }

        // IfAvailable, no stories260K file: serves and says so.
        using (var unchecked_ = _fixture.Build("synth-if-available", poip => poip
            .AddLlamaEngine(o => { o.ModelPath = synthesized; o.Threads = 1; o.ContextSize = 256; o.MaxPromptTokens = 64; o.MaxOutputTokens = 64; })
            .AddDevFunding(o => o.Stake = TokenAmount.FromTokens(200))
            .AddNode(o => o.MaxOutputTokens = 64)))
        {
            await unchecked_.StartAsync();
            var report = unchecked_.Services.GetRequiredService<PoIPRuntime>().KnownAnswer!;
            Assert.False(report.Ran);
            Assert.True(report.MayServe);
            Assert.StartsWith("not run", report.Detail);
            await unchecked_.StopAsync();
        }

        // stories260K given: the test runs on it with the served engine's settings, and passes.
        using var withStories = _fixture.Build("synth-with-kat", poip => poip
            .AddLlamaEngine(o => { o.ModelPath = synthesized; o.Threads = 1; o.ContextSize = 256; o.MaxPromptTokens = 64; o.MaxOutputTokens = 64; }, kat => { kat.Policy = KnownAnswerPolicy.Required; kat.ModelPath = HostingFixture.Stories; })
            .AddDevFunding(o => o.Stake = TokenAmount.FromTokens(200))
            .AddNode(o => o.MaxOutputTokens = 64));
        await withStories.StartAsync();
        var ran = withStories.Services.GetRequiredService<PoIPRuntime>().KnownAnswer!;
        Assert.True(ran.Ran, ran.Detail);
        Assert.StartsWith("passed", ran.Detail);
        await withStories.StopAsync();
    }

    public void Dispose() => _fixture.Dispose();
}
