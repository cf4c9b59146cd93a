using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Hosting.Client;
using PoIP.Testing.Economics;

namespace PoIP.Hosting.Tests;

/// <summary>
/// A client takes back what its undelivered attempts left in escrow, on a real embedded ledger: at once when the request
/// was paid through another attempt of its group, else once abandoned; the delivered answer's escrow only when another
/// attempt's node was paid first.
/// </summary>
public sealed class EscrowReclaimsTests : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _first = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _hedge = Ed25519KeyPair.Generate();
    private readonly EmbeddedStakeManager _ledger;
    private readonly EscrowReclaims _reclaims;

    public EscrowReclaimsTests()
    {
        _ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions
        {
            DatabasePath = ":memory:",
            TimeProvider = _clock,
            InitialParameters = Economics.Parameters.EconomicParameters.Default with { DisputeWindow = Window, MinimumStake = TokenAmount.FromTokens(100) },
        });
        _reclaims = new EscrowReclaims(_ledger);
    }

    [Fact]
    public async Task Sweep_LoserOfARequestPaidThroughTheAnswer_RefundedAtOnceAndTheAnswerForgotten()
    {
        var (root, member) = await TwoAttemptsAsync();
        _reclaims.Track([root.Id, member.Id], delivered: member.Id);

        Assert.Equal(0, await _reclaims.SweepAsync(default)); // nothing paid, nothing abandoned
        Assert.Equal(2, _reclaims.Waiting);
        _clock.Advance(Window + TimeSpan.FromSeconds(1));
        Assert.True((await _ledger.SettleEscrowAsync(OperationId.New(), member.Request, EvidenceFactory.Receipt(_hedge, member.Request, Tokens(3)))).IsApplied);

        Assert.Equal(1, await _reclaims.SweepAsync(default));
        Assert.Equal(EscrowState.Refunded, (await _ledger.GetEscrowAsync(root.Id))!.State);
        Assert.Equal(EscrowState.Settled, (await _ledger.GetEscrowAsync(member.Id))!.State);
        Assert.Equal(0, _reclaims.Waiting);
        Assert.Equal(Tokens(100 - 3), await _ledger.GetBalanceAsync(_client.PeerId));
    }

    [Fact]
    public async Task Sweep_DiscardedAttemptsNodePaidFirst_DeliveredAnswersEscrowRefunded()
    {
        var (root, member) = await TwoAttemptsAsync();
        _reclaims.Track([root.Id, member.Id], delivered: root.Id); // the hedge lost, but its node finished and claims first
        _clock.Advance(Window + TimeSpan.FromSeconds(1));
        Assert.True((await _ledger.SettleEscrowAsync(OperationId.New(), member.Request, EvidenceFactory.Receipt(_hedge, member.Request, Tokens(3)))).IsApplied);

        Assert.Equal(1, await _reclaims.SweepAsync(default));

        Assert.Equal(EscrowState.Refunded, (await _ledger.GetEscrowAsync(root.Id))!.State);
        Assert.Equal(EconomicStatus.UnknownEscrow, (await _ledger.SettleEscrowAsync(OperationId.New(), root.Request, EvidenceFactory.Receipt(_first, root.Request, Tokens(3)))).Status);
        Assert.Equal(0, _reclaims.Waiting);
        Assert.Equal(Tokens(100 - 3), await _ledger.GetBalanceAsync(_client.PeerId)); // paid once
    }

    [Fact]
    public async Task Sweep_AnswerPaidToItsOwnNode_LoserRefundedAnswerUntouched()
    {
        var (root, member) = await TwoAttemptsAsync();
        _reclaims.Track([root.Id, member.Id], delivered: root.Id);
        _clock.Advance(Window + TimeSpan.FromSeconds(1));
        Assert.True((await _ledger.SettleEscrowAsync(OperationId.New(), root.Request, EvidenceFactory.Receipt(_first, root.Request, Tokens(3)))).IsApplied);

        Assert.Equal(1, await _reclaims.SweepAsync(default));

        Assert.Equal(EscrowState.Settled, (await _ledger.GetEscrowAsync(root.Id))!.State);
        Assert.Equal(EscrowState.Refunded, (await _ledger.GetEscrowAsync(member.Id))!.State);
        Assert.Equal(0, _reclaims.Waiting);
    }

    [Fact]
    public async Task Sweep_AttemptOfARequestNobodyAnswered_RefundedOnlyOnceAbandoned()
    {
        var (root, _) = await TwoAttemptsAsync();
        _reclaims.Track([root.Id], delivered: null);

        _clock.Advance(Window + TimeSpan.FromSeconds(1));
        Assert.Equal(0, await _reclaims.SweepAsync(default)); // its node may still claim: not abandoned before twice the window
        Assert.Equal(EscrowState.Open, (await _ledger.GetEscrowAsync(root.Id))!.State);
        _clock.Advance(Window);

        Assert.Equal(1, await _reclaims.SweepAsync(default));
        Assert.Equal(EscrowState.Refunded, (await _ledger.GetEscrowAsync(root.Id))!.State);
        Assert.Equal(0, _reclaims.Waiting);
    }

    [Fact]
    public async Task Sweep_EscrowWhoseOpeningGotNoAnswer_RefundedOnceItOpenedAndWasAbandoned()
    {
        var (_, member) = await TwoAttemptsAsync();
        var late = EvidenceFactory.Request(_client, 3, Tokens(10)); // its opening timed out at the client
        var lateId = new RequestId(late.Hash);
        _reclaims.TrackUncertain([lateId]);

        Assert.Equal(0, await _reclaims.SweepAsync(default)); // not on the ledger (yet)
        Assert.Equal(1, _reclaims.Waiting);
        Assert.True((await _ledger.OpenEscrowAsync(OperationId.New(), lateId, _client.PeerId, _first.PeerId, Tokens(10))).IsApplied); // confirmed late
        Assert.Equal(0, await _reclaims.SweepAsync(default)); // opened, not abandoned yet: it now waits like any undelivered attempt
        Assert.Equal(1, _reclaims.Waiting);
        _clock.Advance((2 * Window) + TimeSpan.FromSeconds(1));

        Assert.Equal(1, await _reclaims.SweepAsync(default));
        Assert.Equal(EscrowState.Refunded, (await _ledger.GetEscrowAsync(lateId))!.State);
        Assert.Equal(EscrowState.Open, (await _ledger.GetEscrowAsync(member.Id))!.State); // untracked escrows are not touched
        Assert.Equal(0, _reclaims.Waiting);
    }

    [Fact]
    public async Task Sweep_EscrowThatNeverOpened_ForgottenAfterTheUncertainPasses()
    {
        _reclaims.TrackUncertain([RequestId.FromEnvelope([9])]);

        for (int pass = 1; pass < EscrowReclaims.UncertainPasses; pass++)
        {
            Assert.Equal(0, await _reclaims.SweepAsync(default));
            Assert.Equal(1, _reclaims.Waiting);
        }

        Assert.Equal(0, await _reclaims.SweepAsync(default));
        Assert.Equal(0, _reclaims.Waiting);
    }

    public void Dispose() => _ledger.Dispose();

    private static TokenAmount Tokens(ulong n) => TokenAmount.FromTokens(n);

    /// <summary>Two attempts of one request: the first to <c>_first</c>, a hedge to <c>_hedge</c> in its group (cap 10 each).</summary>
    private async Task<((RequestId Id, Core.Protocol.SignedMessage<Core.Protocol.InferenceRequest> Request) Root, (RequestId Id, Core.Protocol.SignedMessage<Core.Protocol.InferenceRequest> Request) Member)> TwoAttemptsAsync()
    {
        foreach (var node in new[] { _first, _hedge })
        {
            Assert.True((await _ledger.DepositAsync(OperationId.New(), node.PeerId, Tokens(100))).IsApplied);
            Assert.True((await _ledger.StakeAsync(OperationId.New(), node.PeerId, Tokens(100))).IsApplied);
        }

        Assert.True((await _ledger.DepositAsync(OperationId.New(), _client.PeerId, Tokens(100))).IsApplied);
        var root = EvidenceFactory.Request(_client, 1, Tokens(10));
        var member = EvidenceFactory.Request(_client, 2, Tokens(10));
        var (rootId, memberId) = (new RequestId(root.Hash), new RequestId(member.Hash));
        Assert.True((await _ledger.OpenEscrowAsync(OperationId.New(), rootId, _client.PeerId, _first.PeerId, Tokens(10))).IsApplied);
        Assert.True((await _ledger.OpenEscrowAsync(OperationId.New(), memberId, _client.PeerId, _hedge.PeerId, Tokens(10), rootId)).IsApplied);
        return ((rootId, root), (memberId, member));
    }
}
