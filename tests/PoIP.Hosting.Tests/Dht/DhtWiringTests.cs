using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PoIP.Core.Hashing;
using PoIP.Core.Ledger;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;
using PoIP.Hosting.DependencyInjection;
using PoIP.Hosting.Validation;
using PoIP.Network.Kademlia;
using PoIP.TestUtils.Dht;

namespace PoIP.Hosting.Tests.Dht;

/// <summary>
/// Hosts composed with <c>AddDht</c>: real llama.cpp on stories260K, real libp2p on loopback, the SQLite ledger; the
/// DHT from <see cref="TestDht"/> (the in-memory fake until the real Kademlia is switched in there).
/// </summary>
public sealed class DhtWiringTests : IDisposable
{
    private readonly HostingFixture _fixture = new();

    [Fact]
    public async Task ClientWithOnlyBootstrap_FindsTheNodeAndTheValidatorByModel_RecordsReachTheDht_AnswerAudited()
    {
        var network = new InMemoryDhtNetwork();
        var price = TokenAmount.ParseTokens("0.0005");
        using var validator = _fixture.Build("validator", poip =>
        {
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o =>
            {
                o.Stake = TokenAmount.FromTokens(100);
                o.RegisterValidator = true;
            }).AddValidator(o => o.AuditProbability = 1.0).AddDht(_ => { }, TestDht.Create(network));
        });
        await validator.StartAsync();
        var validatorRuntime = validator.Services.GetRequiredService<PoIPRuntime>();
        string bootstrap = validatorRuntime.ListenAddresses[0].ToString();
        var drawn = new TaskCompletionSource<DhtRecordAudit>(TaskCreationOptions.RunContinuationsAsynchronously);
        validatorRuntime.DhtAudits!.Audited += (_, audit) =>
        {
            if (!audit.Equivocation)
            {
                drawn.TrySetResult(audit);
            }
        };

        using var node = _fixture.Build("node", poip =>
        {
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o => o.Stake = TokenAmount.FromTokens(150))
                .AddNode(o =>
                {
                    o.MaxOutputTokens = 64;
                    o.PricePerToken = price;
                })
                .AddDht(o => o.Bootstrap.Add(bootstrap), TestDht.Create(network));
        });
        await node.StartAsync();
        var nodeRuntime = node.Services.GetRequiredService<PoIPRuntime>();

        using var clientHost = _fixture.Build("client", poip => poip
            .AddDevFunding(o => o.Balance = TokenAmount.FromTokens(10))
            .AddClient(_ => { })
            .AddDht(
                o =>
                {
                    o.Bootstrap.Add(bootstrap);
                    o.Mode = DhtMode.Client;
                },
                TestDht.Create(network)));
        await clientHost.StartAsync();
        var clientRuntime = clientHost.Services.GetRequiredService<PoIPRuntime>();
        var model = await ModelId.FromFileAsync(HostingFixture.Stories);

        var listing = Assert.Single(await new DhtNodeDirectory(clientRuntime.Dht!).FindNodesAsync(model));
        Assert.Equal(nodeRuntime.PeerId, listing.Address.PeerId);
        Assert.Equal(price, listing.PricePerToken);
        Assert.True(listing.KnownAnswerPassed);

        var client = clientHost.Services.GetRequiredService<PoIPClient>();
        var answer = await client.AskAsync("Once upon a time", new AskOptions(model, new SamplingParameters(), 7, 16, TokenAmount.ParseTokens("0.016")));
        Assert.Equal(nodeRuntime.PeerId!.Value, answer.Node);
        Assert.Equal(LedgerPutStatus.Stored, answer.Recorded!.Status);

        // No validator address was given: the client found the model's validator in the DHT and handed it the answer.
        var clientAudit = await answer.Audit.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(validatorRuntime.PeerId, clientAudit.Validator);
        Assert.Equal(ClientAuditStatus.Valid, clientAudit.Status);

        var audit = await drawn.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(new ReceiptId(answer.Receipt.Hash), audit.Receipt);
        Assert.Equal(nodeRuntime.PeerId.Value, audit.Node);
        Assert.True(audit.Ticket!.Selected);

        var records = await validatorRuntime.TransactionLedger!.GetAsync(answer.Receipt.Message.RequestId);
        Assert.Equal([TransactionRole.Client, TransactionRole.Node], records.Select(r => r.Message.Role).Order());

        await clientHost.StopAsync();
        await node.StopAsync();
        await validator.StopAsync();
        Assert.Null(nodeRuntime.Dht);
    }

    [Fact]
    public async Task NodeSignsTwoReceipts_RecordsPutThroughAnotherPeer_ValidatorHostSlashesIt()
    {
        var network = new InMemoryDhtNetwork();
        using var validator = _fixture.Build("validator-eq", poip =>
        {
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o =>
            {
                o.Stake = TokenAmount.FromTokens(100);
                o.RegisterValidator = true;
            }).AddValidator(o => o.AuditProbability = 0.0).AddDht(_ => { }, TestDht.Create(network));
        });
        await validator.StartAsync();
        var validatorRuntime = validator.Services.GetRequiredService<PoIPRuntime>();
        var slashed = new TaskCompletionSource<DhtRecordAudit>(TaskCreationOptions.RunContinuationsAsynchronously);
        validatorRuntime.DhtAudits!.Audited += (_, audit) =>
        {
            if (audit.Equivocation)
            {
                slashed.TrySetResult(audit);
            }
        };

        // the cheating node: staked on the shared ledger, it signs two different receipts for one request
        using var nodeKey = Core.Identity.Ed25519KeyPair.Generate();
        using var clientKey = Core.Identity.Ed25519KeyPair.Generate();
        var stakes = validator.Services.GetRequiredService<Core.Economics.IStakeManager>();
        Assert.True((await ((Core.Economics.IDevFaucet)stakes).DepositAsync(Core.Economics.OperationId.New(), nodeKey.PeerId, TokenAmount.FromTokens(200))).IsApplied);
        Assert.True((await stakes.StakeAsync(Core.Economics.OperationId.New(), nodeKey.PeerId, TokenAmount.FromTokens(200))).IsApplied);
        var request = TransactionRecords.Request(clientKey, expiresAt: TimeProvider.System.GetUtcNow().AddMinutes(5));

        using var peer = _fixture.Build("dht-peer", poip => poip.AddDht(o => o.Bootstrap.Add(validatorRuntime.ListenAddresses[0].ToString()), TestDht.Create(network)));
        await peer.StartAsync();
        var ledger = peer.Services.GetRequiredService<PoIPRuntime>().TransactionLedger!;
        Assert.Equal(LedgerPutStatus.Stored, (await ledger.PutAsync(TransactionRecords.NodeRecord(nodeKey, request, TransactionRecords.Receipt(nodeKey, request, 0)))).Status);
        var conflict = await ledger.PutAsync(TransactionRecords.NodeRecord(nodeKey, request, TransactionRecords.Receipt(nodeKey, request, 1)));
        Assert.Equal(LedgerPutStatus.Conflict, conflict.Status);

        var audit = await slashed.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(nodeKey.PeerId, audit.Node);
        Assert.True(audit.Slash!.IsApplied, audit.Slash.Detail);
        Assert.True((await stakes.GetStakeAsync(nodeKey.PeerId)).Bonded < TokenAmount.FromTokens(200));

        await peer.StopAsync();
        await validator.StopAsync();
    }

    [Fact]
    public async Task Node_HalfItsCapabilityLifetimeLater_RepublishesWithAHigherSequence()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var network = new InMemoryDhtNetwork(clock);
        var sequences = new System.Collections.Concurrent.ConcurrentQueue<ulong>();
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcherOptions = new KademliaOptions
        {
            RecordStored = (key, value, _) =>
            {
                if (System.Text.Encoding.ASCII.GetString(key.Span).StartsWith("/poip/cap/", StringComparison.Ordinal))
                {
                    sequences.Enqueue(SignedMessage.Open<CapabilityRecord>(value).Message.Sequence);
                    if (sequences.Count >= 2)
                    {
                        second.TrySetResult();
                    }
                }

                return ValueTask.CompletedTask;
            },
        };
        watcherOptions.Namespaces.Add(new Network.Transactions.PoIPRecordNamespace());
        network.Join(Core.Identity.Ed25519KeyPair.Generate().PeerId, watcherOptions);

        using var node = _fixture.Build("node-republish", poip =>
        {
            poip.Services.AddSingleton<TimeProvider>(clock);
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o => o.Stake = TokenAmount.FromTokens(150)).AddNode(o => o.MaxOutputTokens = 64)
                .AddDht(o => o.CapabilityLifetime = TimeSpan.FromHours(2), (host, options, _) => ValueTask.FromResult<IKademliaDht>(network.Join(host, options))); // always the fake: its watcher peer sees every store
        });
        await node.StartAsync();
        Assert.Single(sequences);

        clock.Advance(TimeSpan.FromHours(1)); // half the lifetime: the republish is due
        await second.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sequences.ToArray()[1] > sequences.ToArray()[0]);
        await node.StopAsync();
    }

    [Fact]
    public async Task Start_InvalidDhtOptions_FailsWithAMessagePerProblem()
    {
        using var host = _fixture.Build("bad-dht", poip => poip.AddDht(o =>
        {
            o.Bootstrap.Add("/ip4/127.0.0.1/tcp/4001");
            o.ProtocolId = "kad";
            o.Quorum = 99;
        }));
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("/p2p/", error.Message, StringComparison.Ordinal);
        Assert.Contains("protocol id", error.Message, StringComparison.Ordinal);
        Assert.Contains("Quorum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddClient_NoNodesWithoutDht_StillRefused()
    {
        using var host = _fixture.Build("client-alone", poip => poip.AddClient(_ => { }));
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("AddDht", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _fixture.Dispose();
}
