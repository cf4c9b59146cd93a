using Microsoft.Extensions.DependencyInjection;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;
using PoIP.Hosting.DependencyInjection;
using PoIP.Hosting.Validation;
using PoIP.Network.Kademlia;
using PoIP.Testing.LocalNetwork;
using PoIP.TestUtils.Dht;

namespace PoIP.Hosting.Tests.Dht;

/// <summary>
/// Audits drawn from the public record (issue 15, step 5): real llama.cpp on stories260K, the DHT from
/// <see cref="TestDht"/> (the real Kademlia over loopback libp2p), the SQLite ledger. The client never forwards its
/// receipt to a validator; the validator finds the node's record in the DHT, draws it, fetches the transcript from
/// the node on <c>/poip/transcript/1.0.0</c> and audits it.
/// </summary>
public sealed class TranscriptAuditTests : IDisposable
{
    private readonly HostingFixture _fixture = new();

    [Fact]
    public async Task ColludingClientNeverForwards_ValidatorDrawsFromDhtAndFetchesTranscript_CheatingNodeSlashed()
    {
        var (audit, stakeBefore, stakeAfter, nodeId) = await RunAsync("slash", CheatKind.AlterOutput, serveTranscripts: true, TimeSpan.FromMinutes(2));

        Assert.Equal(DhtTranscriptStatus.Audited, audit.Status);
        Assert.Equal(nodeId, audit.Node);
        Assert.Empty(audit.Refusals);
        Assert.Equal(VerdictOutcome.Fraud, audit.Outcome!.Verdict!.Message.Outcome);
        Assert.True(audit.Outcome.Slashed, audit.Outcome.Detail);
        Assert.True(stakeAfter < stakeBefore);
    }

    [Fact]
    public async Task HonestNode_TranscriptFetched_AuditedValidAndNotSlashed()
    {
        var (audit, stakeBefore, stakeAfter, nodeId) = await RunAsync("honest", CheatKind.None, serveTranscripts: true, TimeSpan.FromMinutes(2));

        Assert.Equal(DhtTranscriptStatus.Audited, audit.Status);
        Assert.Equal(VerdictOutcome.Valid, audit.Outcome!.Verdict!.Message.Outcome);
        Assert.False(audit.Outcome.Slashed);
        Assert.Equal(stakeBefore, stakeAfter);
    }

    [Fact]
    public async Task NodeWithholdsTranscript_PastTheWindow_RecordedInReputationNotSlashed()
    {
        var (audit, stakeBefore, stakeAfter, nodeId) = await RunAsync("withhold", CheatKind.AlterOutput, serveTranscripts: false, TimeSpan.Zero);

        Assert.Equal(DhtTranscriptStatus.Withheld, audit.Status);
        Assert.Null(audit.Outcome);
        Assert.Equal(stakeBefore, stakeAfter);
    }

    public void Dispose() => _fixture.Dispose();

    private async Task<(DhtTranscriptAudit Audit, TokenAmount StakeBefore, TokenAmount StakeAfter, Core.Identity.PeerId Node)> RunAsync(string name, CheatKind cheat, bool serveTranscripts, TimeSpan window)
    {
        var network = new InMemoryDhtNetwork();
        using var validator = _fixture.Build("validator-" + name, poip =>
        {
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o =>
            {
                o.Stake = TokenAmount.FromTokens(100);
                o.RegisterValidator = true;
            }).AddValidator(o =>
            {
                o.AuditProbability = 1.0;
                o.TranscriptWindow = window;
                o.TranscriptRetryInterval = TimeSpan.FromSeconds(1);
            }).AddDht(_ => { }, TestDht.Create(network));
        });
        await validator.StartAsync();
        var validatorRuntime = validator.Services.GetRequiredService<PoIPRuntime>();
        string bootstrap = validatorRuntime.ListenAddresses[0].ToString();
        var finished = new TaskCompletionSource<DhtTranscriptAudit>(TaskCreationOptions.RunContinuationsAsynchronously);
        validatorRuntime.DhtAudits!.TranscriptAudited += (_, audit) => finished.TrySetResult(audit);

        using var node = _fixture.Build("node-" + name, poip =>
        {
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o => o.Stake = TokenAmount.FromTokens(150))
                .AddNode(o =>
                {
                    o.MaxOutputTokens = 64;
                    o.ServeTranscripts = serveTranscripts;
                })
                .AddDht(o => o.Bootstrap.Add(bootstrap), TestDht.Create(network))
                .AddDemoCheat(cheat);
        });
        await node.StartAsync();
        var nodeId = node.Services.GetRequiredService<PoIPRuntime>().PeerId!.Value;
        var stakes = validator.Services.GetRequiredService<IStakeManager>();
        var stakeBefore = (await stakes.GetStakeAsync(nodeId)).Bonded;

        // The client forwards to no validator (none given, none looked up): only the DHT records can bring an audit.
        using var clientHost = _fixture.Build("client-" + name, poip => poip
            .AddDevFunding(o => o.Balance = TokenAmount.FromTokens(10))
            .AddClient(o => o.FindValidators = false)
            .AddDht(
                o =>
                {
                    o.Bootstrap.Add(bootstrap);
                    o.Mode = DhtMode.Client;
                },
                TestDht.Create(network)));
        await clientHost.StartAsync();
        var model = await ModelId.FromFileAsync(HostingFixture.Stories);
        var client = clientHost.Services.GetRequiredService<PoIPClient>();
        var answer = await client.AskAsync("Once upon a time", new AskOptions(model, new SamplingParameters(), 7, 16, TokenAmount.ParseTokens("0.016")));
        Assert.Equal(nodeId, answer.Node);

        var audit = await finished.Task.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(new ReceiptId(answer.Receipt.Hash), audit.Receipt);
        if (audit.Status == DhtTranscriptStatus.Withheld)
        {
            Assert.True(validatorRuntime.DhtAudits.Reputation.Get(nodeId).Score < 0.5);
        }

        var stakeAfter = (await stakes.GetStakeAsync(nodeId)).Bonded;
        await clientHost.StopAsync();
        await node.StopAsync();
        await validator.StopAsync();
        return (audit, stakeBefore, stakeAfter, nodeId);
    }
}
