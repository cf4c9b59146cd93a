using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using PoIP.Core.Economics;
using PoIP.Core.Engine;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Inference.Commitments;
using PoIP.Inference.Llama;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.InferProtocol;

namespace PoIP.Gateway.Tests;

/// <summary>
/// A real node (llama.cpp on stories260K behind <c>/poip/infer/1.0.0</c>, staked on the network's
/// ledger) whose engine hands out tokens only as the test allows, so a test can disconnect while
/// the node is provably mid-generation; <see cref="ClientGone"/> completes when the node's stream
/// is closed by the client.
/// </summary>
internal sealed class PacedNode : IAsyncDisposable
{
    private readonly Ed25519KeyPair _key;
    private readonly Libp2pHost _host;

    private PacedNode(Ed25519KeyPair key, Libp2pHost host, PacedEngine engine, Multiaddr address)
    {
        _key = key;
        _host = host;
        Engine = engine;
        Address = address;
    }

    public PacedEngine Engine { get; }

    public Multiaddr Address { get; }

    public TaskCompletionSource ClientGone { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the node is done with its stream: true when it sent a receipt (and could claim payment).</summary>
    public TaskCompletionSource<bool> ReceiptSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PeerId Id => _key.PeerId;

    /// <summary>The meter factory of this node's engine (the scope of its meters).</summary>
    public IMeterFactory Meters { get; private init; } = null!;

    public static async Task<PacedNode> StartAsync(GatewayFixture fixture)
    {
        var key = Ed25519KeyPair.Generate();
        var ledger = (EmbeddedStakeManager)fixture.Network.Ledger;
        await ledger.CreateAccountAsync(OperationId.New(), key.PeerId);
        await ledger.DepositAsync(OperationId.New(), key.PeerId, TokenAmount.FromTokens(201));
        await ledger.StakeAsync(OperationId.New(), key.PeerId, TokenAmount.FromTokens(200));
        // Its own meter factory, so a test can watch this engine's sequences apart from every other engine
        // in the process (validators re-executing earlier answers, whose audits run after them).
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var inner = await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = GatewayFixture.Stories, Threads = 1, ContextSize = 512, MaxOutputTokens = 200, MaxPromptTokens = 256 }, logger: null, meterFactory: meters);
        var engine = new PacedEngine(inner);
        var service = new InferenceService(new InferenceServiceOptions
        {
            NodeKey = key,
            Engine = engine,
            Commitments = new ActivationCommitmentScheme(),
            Policy = new AdmissionPolicy { Models = new HashSet<Core.Hashing.ModelId> { fixture.Model.Id }, PricePerToken = TokenAmount.ParseTokens("0.001"), MaxOutputTokens = 200 },
        });
        var options = new Libp2pHostOptions { Key = key };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        var host = Libp2pHost.Create(options);
        await host.StartAsync();
        var node = new PacedNode(key, host, engine, host.ListenAddresses[0].WithPeerId(key.PeerId)) { Meters = meters };
        host.SetHandler(InferenceService.ProtocolId, async (stream, ct) =>
        {
            // Watch the stream only once the request was read (two concurrent reads are not allowed).
            engine.OnGenerate = () => _ = WatchAsync(stream, node);
            try
            {
                node.ReceiptSent.TrySetResult((await service.ServeAsync(stream, ct)).Served);
            }
            catch (Exception ex) when (ex is Libp2pException or IOException)
            {
                // writing a token to the closed stream failed: the node stopped generating
                node.ReceiptSent.TrySetResult(false);
            }
        });
        return node;
    }

    /// <summary>The client sends nothing after its request: any read completing means it closed or reset the stream.</summary>
    private static async Task WatchAsync(Libp2pStream stream, PacedNode node)
    {
        try
        {
            await Task.Yield();
            byte[] one = new byte[1];
            while (await stream.ReadAsync(one) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is Libp2pException or IOException or ObjectDisposedException)
        {
            // reset by the client
        }

        node.ClientGone.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await Engine.DisposeAsync();
        _key.Dispose();
    }

    /// <summary>The real engine, yielding each token only when allowed; <see cref="Freed"/> completes when the generation's enumerator (and sequence) is released.</summary>
    internal sealed class PacedEngine(IInferenceEngine inner) : IInferenceEngine
    {
        private readonly SemaphoreSlim _allowed = new(0);

        public TaskCompletionSource Freed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public EngineIdentity Identity => inner.Identity;

        public ModelDescriptor Model => inner.Model;

        public Action? OnGenerate { get; set; }

        /// <summary>Completes when a generation started (the request reached the engine).</summary>
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Allow(int tokens) => _allowed.Release(tokens);

        public IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence) => inner.Tokenize(text, addBeginOfSequence);

        public string Detokenize(IReadOnlyList<int> tokens) => inner.Detokenize(tokens);

        public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            OnGenerate?.Invoke();
            Started.TrySetResult();
            try
            {
                await foreach (var token in inner.GenerateAsync(request, observer, cancellationToken))
                {
                    await _allowed.WaitAsync(cancellationToken);
                    yield return token;
                }
            }
            finally
            {
                Freed.TrySetResult();
            }
        }

        public Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, CancellationToken cancellationToken = default) =>
            inner.TeacherForceAsync(promptTokens, outputTokens, observer, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            _allowed.Dispose();
        }
    }
}
