using Google.Protobuf;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol.Wire;
using PoIP.Economics.Embedded;
using PoIP.Hosting.Client;
using PoIP.Hosting.Validation;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.AuditProtocol;
using PoIP.Network.InferProtocol;
using PoIP.Network.Protocols;
using PoIP.Network.Yamux;
using PoIP.Testing.LocalNetwork;
using PoIP.TestUtils;

namespace PoIP.Hosting.Tests;

/// <summary>
/// Malicious peers at PoIP's own protocols, real libp2p over loopback against real roles (llama.cpp, SQLite ledger):
/// garbage and oversized frames on <c>/poip/audit/1.0.0</c> (the <c>/poip/infer/1.0.0</c> cases are
/// <see cref="MaliciousClientTests"/>), a node that never answers, and a peer that opens 10,000 streams. A DHT peer
/// flooding records is covered by tests/PoIP.Network.Tests/Kademlia/KadBadInputTests (per-peer quota, store limits,
/// request rate limit with disconnection) and KademliaLoopbackTests.OversizedFrame_IsRefusedCountedAndThePeerDisconnected.
/// </summary>
public sealed class MaliciousPeerTests : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
    private readonly string _data = Directory.CreateTempSubdirectory("poip-peers-").FullName;
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<IDisposable> _keys = [];
    private LocalNetwork _network = null!;

    public async Task InitializeAsync() =>
        _network = await LocalNetwork.StartAsync(new LocalNetworkOptions
        {
            ModelPath = HostingFixture.Stories,
            DataDirectory = _data,
            Nodes = 2,
            Cheat = CheatKind.None,
            AuditProbability = 0,
            MaxTokens = 8,
        });

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        await _network.DisposeAsync();
        foreach (var key in _keys)
        {
            key.Dispose();
        }

        Directory.Delete(_data, recursive: true);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("oversized")]
    [InlineData("empty")]
    public async Task Audit_MalformedSubmission_RefusedAndValidatorStillAudits(string attack)
    {
        using var cts = new CancellationTokenSource(Limit);
        var validatorKey = Key();
        await using var engine = await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = HostingFixture.Stories, Threads = 1, ContextSize = 512, MaxOutputTokens = 8, MaxPromptTokens = 256 }, cts.Token);
        var validator = new ValidatorService(new ValidatorServiceOptions
        {
            Key = validatorKey,
            Verifier = new ReexecutionVerifier(engine, new ReexecutionVerifierOptions()),
            Stakes = _network.Ledger,
            AuditProbability = AuditSelectionProbability.FromDouble(1.0),
        });
        var validatorHost = await HostAsync(validatorKey);
        validatorHost.SetHandler(AuditWire.ProtocolId, (stream, ct) => validator.HandleAsync(stream, ct));
        var address = validatorHost.ListenAddresses[0].WithPeerId(validatorKey.PeerId);
        var attacker = await HostAsync(Key());

        await using (var stream = await attacker.OpenStreamAsync(address, AuditWire.ProtocolId, cts.Token))
        {
            byte[] prefix = new byte[10];
            switch (attack)
            {
                case "garbage":
                    // field 1 (bytes) announcing more bytes than the frame holds: not a submission
                    await LengthPrefixedFrames.WriteAsync(stream, new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x02 }, cts.Token);
                    break;
                case "oversized":
                    int length = Core.Encoding.UnsignedVarint.Write(prefix, 256u << 20); // announces 256 MiB; a few bytes follow
                    await stream.WriteAsync(prefix.AsMemory(0, length), cts.Token);
                    await stream.WriteAsync(new byte[64], cts.Token);
                    break;
                default:
                    await LengthPrefixedFrames.WriteAsync(stream, new AuditSubmissionProto { Version = 1 }.ToByteArray(), cts.Token); // every field empty
                    break;
            }

            await stream.FlushAsync(cts.Token);
            byte[]? frame = await LengthPrefixedFrames.ReadAsync(stream, AuditWire.MaxReplyLength, cts.Token);
            Assert.NotNull(frame);
            var reply = AuditReplyProto.Parser.ParseFrom(frame);
            Assert.False(reply.Selected);
            Assert.True(reply.VerdictEnvelope.IsEmpty, "no verdict is signed over garbage");
            Assert.False(string.IsNullOrWhiteSpace(reply.Detail), "a refusal says why");
        }

        // The validator still audits an honest answer end to end.
        var answer = await _network.Client.AskAsync("Once upon a time", new AskOptions(_network.Model, new SamplingParameters(), 7, 8, TokenAmount.FromTokens(1)), cancellationToken: cts.Token);
        await using (var stream = await attacker.OpenStreamAsync(address, AuditWire.ProtocolId, cts.Token))
        {
            var reply = await AuditWire.SubmitAsync(stream, answer.Request.Envelope.Encoded, "Once upon a time"u8.ToArray(), answer.Receipt.Envelope.Encoded, answer.OutputTokens, cts.Token);
            Assert.True(reply.Selected);
            Assert.False(reply.VerdictEnvelope.IsEmpty, reply.Detail);
        }
    }

    [Fact]
    public async Task Ask_NodeNeverAnswers_AttemptTimesOutFinishesElsewhereSilentNodeNotPaid()
    {
        using var cts = new CancellationTokenSource(Limit);
        var ledger = Assert.IsType<EmbeddedStakeManager>(_network.Ledger);
        var silentKey = Key();
        var clientKey = Key();
        await Fund(ledger, silentKey.PeerId, TokenAmount.FromTokens(300));
        Assert.True((await ledger.StakeAsync(OperationId.New(), silentKey.PeerId, TokenAmount.FromTokens(200), cts.Token)).IsApplied);
        await Fund(ledger, clientKey.PeerId, TokenAmount.FromTokens(10));
        var silentBalance = await ledger.GetBalanceAsync(silentKey.PeerId, cts.Token);

        // The silent node negotiates /poip/infer/1.0.0, reads the request, and never answers.
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var silent = await HostAsync(silentKey);
        silent.SetHandler(InferenceService.ProtocolId, async (stream, ct) =>
        {
            asked.TrySetResult();
            await stream.CopyToAsync(Stream.Null, ct); // until the client gives up and resets the stream
        });
        var silentAddress = silent.ListenAddresses[0].WithPeerId(silentKey.PeerId);
        var client = new PoIPClient(new PoIPClientOptions
        {
            Key = clientKey,
            Host = await HostAsync(clientKey),
            Nodes = [_network.NodeAddresses[0], silentAddress],
            Stakes = ledger,
            Selection = NodeSelectionPolicy.RoundRobin, // the first request starts at the second node: the silent one
            AttemptTimeout = TimeSpan.FromSeconds(5),
            Hedging = false, // the attempt must time out and fail over, not be overtaken by a hedge (on by default)
        });

        var answer = await client.AskAsync("Once upon a time", new AskOptions(_network.Model, new SamplingParameters(), 3, 8, TokenAmount.FromTokens(1)), cancellationToken: cts.Token);

        Assert.True(asked.Task.IsCompleted, "the silent node was tried first");
        Assert.Equal(_network.NodeAddresses[0].PeerId, answer.Node);
        Assert.Equal(2, answer.Attempts);
        Assert.Contains(answer.FailedAttempts, f => f.Contains(silentKey.PeerId.ToString(), StringComparison.Ordinal));
        Assert.NotEmpty(answer.OutputTokens);

        // Money: the answer is paid once (to the node that answered); the silent node's escrow can never settle (no
        // receipt) and goes back to the client once abandoned; the silent node earns nothing.
        var silentEscrow = Assert.Single(client.OpenedEscrows, id => id != new Core.Hashing.RequestId(answer.Request.Hash));
        Assert.Equal(EscrowState.Open, (await ledger.GetEscrowAsync(silentEscrow, cts.Token))!.State);
        var rules = await ledger.GetRulesAsync(cts.Token);
        await _network.AdvanceLedgerClockAsync(rules.DisputeWindow + TimeSpan.FromSeconds(1), cts.Token);
        Assert.True((await ledger.SettleEscrowAsync(OperationId.Derive("escrow-settle", answer.Request.Hash.ToArray()), answer.Request, answer.Receipt, cts.Token)).IsApplied);
        await _network.AdvanceLedgerClockAsync(rules.DisputeWindow, cts.Token);
        Assert.True((await ledger.RefundEscrowAsync(OperationId.New(), silentEscrow, cts.Token)).IsApplied);
        Assert.Equal(EscrowState.Refunded, (await ledger.GetEscrowAsync(silentEscrow, cts.Token))!.State);
        Assert.Equal(silentBalance, await ledger.GetBalanceAsync(silentKey.PeerId, cts.Token));
        Assert.Equal(TokenAmount.FromTokens(10) - answer.Receipt.Message.Price, await ledger.GetBalanceAsync(clientKey.PeerId, cts.Token));
        Assert.True((await ledger.GetTotalsAsync(cts.Token)).IsConserved);
    }

    [Fact]
    public async Task Flood_TenThousandStreamsAtARealNode_BoundedThenDisconnectedAndNodeKeepsServing()
    {
        using var cts = new CancellationTokenSource(Limit);
        var attacker = await HostAsync(Key(), o => o.Yamux = new YamuxOptions { MaxOutboundStreams = 10_000, MaxPendingControlFrames = 16_384 }); // its own SYN queue never overflows
        var node = _network.NodeAddresses[1];
        var connection = await attacker.DialAsync(node, cts.Token);

        const int attempts = 10_000;
        var tries = Enumerable.Range(0, attempts).Select(async _ =>
        {
            try
            {
                return await connection.OpenStreamAsync(InferenceService.ProtocolId, cts.Token);
            }
            catch (Exception ex) when (ex is Libp2pException or IOException or ObjectDisposedException or InvalidOperationException || (ex is OperationCanceledException && !cts.IsCancellationRequested))
            {
                return null; // reset by the node, or the connection closed under it
            }
        }).ToList();
        var streams = await Task.WhenAll(tries);
        await Task.WhenAny(connection.Completion).WaitAsync(cts.Token); // ended, whatever the cause (a reset or broken pipe faults it)

        // Memory stays bounded: the node held at most its per-connection limit (YamuxOptions.MaxInboundStreams,
        // default 256) and closed the connection once the peer kept opening past it.
        int opened = streams.Count(s => s is not null);
        Assert.InRange(opened, 0, new YamuxOptions().MaxInboundStreams);
        Assert.True(connection.IsClosed);
        foreach (var stream in streams.OfType<Libp2pStream>())
        {
            await stream.DisposeAsync();
        }

        // The node keeps serving everyone else, the attacked node included.
        var report = await _network.AskAsync("Once upon a time", 11, cts.Token);
        Assert.NotEmpty(report.Text);
        var again = await _network.Client.AskAsync("Once upon a time", new AskOptions(_network.Model, new SamplingParameters(), 12, 8, TokenAmount.FromTokens(1)), cancellationToken: cts.Token);
        Assert.NotEmpty(again.OutputTokens);
    }

    private Ed25519KeyPair Key()
    {
        var key = Ed25519KeyPair.Generate();
        _keys.Add(key);
        return key;
    }

    private async Task<Libp2pHost> HostAsync(Ed25519KeyPair key, Action<Libp2pHostOptions>? configure = null)
    {
        var options = new Libp2pHostOptions { Key = key, IdentifyOnConnect = false };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        configure?.Invoke(options);
        var host = Libp2pHost.Create(options);
        _owned.Add(host);
        await host.StartAsync();
        return host;
    }

    private static async Task Fund(EmbeddedStakeManager ledger, PeerId account, TokenAmount amount)
    {
        Assert.True((await ledger.CreateAccountAsync(OperationId.New(), account)).IsApplied);
        Assert.True((await ledger.DepositAsync(OperationId.New(), account, amount)).IsApplied);
    }
}
