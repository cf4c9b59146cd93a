using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;

namespace PoIP.Gateway.Tests;

/// <summary>
/// Hedging a slow attempt: the first node to produce a token wins, the other is cancelled and never paid. The attempts
/// of a request share one escrow group, so even a loser that finished anyway could not be paid beside the winner.
/// </summary>
[Collection(GatewayNetworkGroup.Name)]
public sealed class HedgingTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AskAsync_FirstNodeSilentPastHedgeDelay_SecondNodeAnswersLoserCancelledAndOnlyWinnerPaid()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var slow = await PacedNode.StartAsync(fixture); // holds every token until allowed
        var fast = fixture.Network.NodeAddresses[0];
        // Round robin starts the client's first request at index 1: the slow node is asked first.
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory([fast, slow.Address]), fund: true, time: time, hedgeAfter: TimeSpan.FromMilliseconds(500), selection: NodeSelectionPolicy.RoundRobin);
        var ledger = fixture.Network.Ledger;
        var slowBalance = await ledger.GetBalanceAsync(slow.Id);
        var clientBalance = await ledger.GetBalanceAsync(owned.Key.PeerId);
        var pieces = new List<string>();

        var ask = owned.Client.AskAsync("Once upon a time", new AskOptions(fixture.Model.Id, new SamplingParameters(), 3, 8, TokenAmount.ParseTokens("0.008")), pieces.Add);
        await slow.Engine.Started.Task.WaitAsync(Bound); // the first attempt reached the slow node, which produces nothing
        time.Advance(TimeSpan.FromMilliseconds(501));     // past the hedge delay: Polly asks the next node as well
        var answer = await ask.WaitAsync(Bound);
        await slow.ClientGone.Task.WaitAsync(Bound);      // the loser's stream was reset
        slow.Engine.Allow(1000);                          // let the slow node try to go on

        Assert.False(await slow.ReceiptSent.Task.WaitAsync(Bound)); // it stopped before a receipt existed: nothing to claim
        Assert.Equal(fast.PeerId, answer.Node);
        Assert.Equal(2, answer.Attempts);
        Assert.Equal(1, answer.HedgesCancelled);
        Assert.Equal(answer.Text, string.Concat(pieces)); // only the winner's text reached the caller
        Assert.True(owned.Client.Latencies[slow.Id] >= TimeSpan.FromMilliseconds(500)); // the loser's silence counts against it

        var winner = new RequestId(answer.Request.Hash);
        var loser = Assert.Single(owned.Client.OpenedEscrows, e => e != winner);
        Assert.Equal(slow.Id, (await ledger.GetEscrowAsync(loser))!.Node);
        // Regression (a hedge loser that finished anyway was paid beside the answer): the hedge joined the first
        // attempt's escrow group, so the ledger pays one attempt of the request at most.
        Assert.Null((await ledger.GetEscrowAsync(loser))!.Group);
        Assert.Equal(loser, (await ledger.GetEscrowAsync(winner))!.Group);
        Assert.Equal(0, await owned.Client.ReclaimEscrowsAsync()); // the request is not paid yet and the loser not abandoned
        Assert.Equal(2, owned.Client.EscrowsToReclaim);            // the loser's, and the answer's in case the loser's node is paid first
        var window = (await ledger.GetRulesAsync()).DisputeWindow;
        await fixture.Network.AdvanceLedgerClockAsync(window + TimeSpan.FromSeconds(1));
        Assert.True((await ledger.SettleEscrowAsync(OperationId.New(), answer.Request, answer.Receipt)).IsApplied);
        Assert.Equal(1, await owned.Client.ReclaimEscrowsAsync()); // its group was paid: the loser's cap comes back at once
        Assert.Equal(0, owned.Client.EscrowsToReclaim);

        Assert.Equal(EscrowState.Settled, (await ledger.GetEscrowAsync(winner))!.State);
        Assert.Equal(EscrowState.Refunded, (await ledger.GetEscrowAsync(loser))!.State);
        Assert.Equal(slowBalance, await ledger.GetBalanceAsync(slow.Id));
        Assert.Equal(clientBalance - answer.Receipt.Message.Price, await ledger.GetBalanceAsync(owned.Key.PeerId)); // paid once, for the answer it got
    }

    [Fact]
    public async Task AskAsync_DefaultAdaptiveHedging_SilentNodeHedgedAfterTheColdCapAndOnlyTheAnswerPaid()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var slow = await PacedNode.StartAsync(fixture);
        var fast = fixture.Network.NodeAddresses[1];
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory([fast, slow.Address]), fund: true, time: time, selection: NodeSelectionPolicy.RoundRobin, hedging: true);
        var defaults = new PoIPClientOptions { Key = owned.Key, Host = owned.Host, Stakes = fixture.Network.Ledger, Nodes = [fast] };
        Assert.True(defaults.Hedging); // on by default, adaptive
        Assert.Null(defaults.HedgeAfter);
        var cold = owned.Client.HedgeDelay!.Value;
        Assert.Equal(defaults.MaxHedgeDelay, cold); // nothing measured yet: the cap
        var ledger = fixture.Network.Ledger;
        var slowBalance = await ledger.GetBalanceAsync(slow.Id);
        var clientBalance = await ledger.GetBalanceAsync(owned.Key.PeerId);

        var ask = owned.Client.AskAsync("Once upon a time", new AskOptions(fixture.Model.Id, new SamplingParameters(), 5, 8, TokenAmount.ParseTokens("0.008")));
        await slow.Engine.Started.Task.WaitAsync(Bound); // round robin asks the silent node first
        time.Advance(cold + TimeSpan.FromMilliseconds(1));
        var answer = await ask.WaitAsync(Bound);
        await slow.ClientGone.Task.WaitAsync(Bound);
        slow.Engine.Allow(1000);

        Assert.False(await slow.ReceiptSent.Task.WaitAsync(Bound));
        Assert.Equal(fast.PeerId, answer.Node);
        Assert.Equal(1, answer.HedgesCancelled);
        var window = (await ledger.GetRulesAsync()).DisputeWindow;
        await fixture.Network.AdvanceLedgerClockAsync(window + TimeSpan.FromSeconds(1));
        Assert.True((await ledger.SettleEscrowAsync(OperationId.New(), answer.Request, answer.Receipt)).IsApplied);
        var loser = Assert.Single(owned.Client.OpenedEscrows, e => e != new RequestId(answer.Request.Hash));
        Assert.Equal(1, await owned.Client.ReclaimEscrowsAsync());
        Assert.Equal(EscrowState.Refunded, (await ledger.GetEscrowAsync(loser))!.State);
        Assert.Equal(slowBalance, await ledger.GetBalanceAsync(slow.Id));
        Assert.Equal(clientBalance - answer.Receipt.Message.Price, await ledger.GetBalanceAsync(owned.Key.PeerId));
    }

    [Fact]
    public async Task AskAsync_HedgeFailsWhilePrimaryIsSlow_PrimaryAnswerStillDelivered()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var slow = await PacedNode.StartAsync(fixture);
        using var strangerKey = Core.Identity.Ed25519KeyPair.Generate(); // not on the ledger: its escrow is refused at once
        var stranger = Network.Addressing.Multiaddr.Parse("/ip4/127.0.0.1/tcp/1").WithPeerId(strangerKey.PeerId);
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory([stranger, slow.Address]), fund: true, time: time, hedgeAfter: TimeSpan.FromMilliseconds(500), selection: NodeSelectionPolicy.RoundRobin);
        var pieces = new List<string>();

        var ask = owned.Client.AskAsync("Once upon a time", new AskOptions(fixture.Model.Id, new SamplingParameters(), 4, 6, TokenAmount.ParseTokens("0.006")), pieces.Add);
        await slow.Engine.Started.Task.WaitAsync(Bound);
        time.Advance(TimeSpan.FromMilliseconds(501)); // the hedge goes to the stranger and fails
        slow.Engine.Allow(1000);
        var answer = await ask.WaitAsync(Bound);

        Assert.Equal(slow.Id, answer.Node);
        Assert.Equal(2, answer.Attempts);
        Assert.Equal(6, answer.OutputTokens.Count);
        Assert.Equal(answer.Text, string.Concat(pieces));
        Assert.True(await slow.ReceiptSent.Task.WaitAsync(Bound));
    }
}
