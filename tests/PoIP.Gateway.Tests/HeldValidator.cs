using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Hosting.Validation;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.AuditProtocol;

namespace PoIP.Gateway.Tests;

/// <summary>
/// A real validator (its own key, llama.cpp re-execution, every receipt audited) that takes each
/// submission but starts judging it only when the test releases it: a slow validator on demand.
/// <see cref="Entered"/> completes when a submission arrived.
/// </summary>
internal sealed class HeldValidator : IAsyncDisposable
{
    private readonly Ed25519KeyPair _key;
    private readonly Libp2pHost _host;
    private readonly LlamaInferenceEngine _engine;

    private HeldValidator(Ed25519KeyPair key, Libp2pHost host, LlamaInferenceEngine engine)
    {
        _key = key;
        _host = host;
        _engine = engine;
        Address = host.ListenAddresses[0].WithPeerId(key.PeerId);
    }

    public Multiaddr Address { get; }

    public PeerId Id => _key.PeerId;

    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many submissions are refused (stream reset at once: a validator outage) before it judges.</summary>
    public int RefuseFirst { get; set; }

    /// <summary>Submissions received (refused ones included).</summary>
    public int Submissions => Volatile.Read(ref _submissions);

    private int _submissions;

    public static async Task<HeldValidator> StartAsync(GatewayFixture fixture)
    {
        var key = Ed25519KeyPair.Generate();
        var engine = await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = GatewayFixture.Stories, Threads = 1, ContextSize = 512, MaxOutputTokens = GatewayFixture.NodeMaxTokens, MaxPromptTokens = 256 });
        var service = new ValidatorService(new ValidatorServiceOptions
        {
            Key = key,
            Verifier = new ReexecutionVerifier(engine, new ReexecutionVerifierOptions()),
            Stakes = fixture.Network.Ledger,
            AuditProbability = AuditSelectionProbability.FromDouble(1.0),
        });
        var options = new Libp2pHostOptions { Key = key };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        var host = Libp2pHost.Create(options);
        await host.StartAsync();
        var held = new HeldValidator(key, host, engine);
        host.SetHandler(AuditWire.ProtocolId, async (stream, ct) =>
        {
            if (Interlocked.Increment(ref held._submissions) <= held.RefuseFirst)
            {
                stream.Reset(); // down: the client's submission fails
                return;
            }

            held.Entered.TrySetResult();
            await held.Release.Task.WaitAsync(ct);
            await service.HandleAsync(stream, ct);
        });
        return held;
    }

    public async ValueTask DisposeAsync()
    {
        Release.TrySetResult();
        await _host.DisposeAsync();
        await _engine.DisposeAsync();
        _key.Dispose();
    }
}
