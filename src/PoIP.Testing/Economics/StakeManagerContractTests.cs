using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using Xunit;

namespace PoIP.Testing.Economics;

/// <summary>
/// The contract every <see cref="IStakeManager"/> back end must meet. Derive from it in a test
/// project and implement <see cref="CreateHarnessAsync"/>; every test starts from an empty ledger
/// and ends by checking that money was conserved.
/// </summary>
public abstract class StakeManagerContractTests
{
    /// <summary>Creates a fresh back end to test.</summary>
    protected abstract Task<IStakeManagerHarness> CreateHarnessAsync();

    /// <summary>Staking moves free balance into bonded stake.</summary>
    [Fact]
    public async Task Stake_FromBalance_MovesIntoBonded()
    {
        await using var h = await CreateHarnessAsync();
        using var node = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(500));

        Assert.Equal(EconomicStatus.Applied, (await h.Manager.StakeAsync(OperationId.New(), node.PeerId, Tokens(200))).Status);

        Assert.Equal(Tokens(300), await h.Manager.GetBalanceAsync(node.PeerId));
        Assert.Equal(Tokens(200), (await h.Manager.GetStakeAsync(node.PeerId)).Bonded);
        await AssertConservedAsync(h);
    }

    /// <summary>Bad stakes are typed refusals and change nothing.</summary>
    [Fact]
    public async Task Stake_BadInput_RefusedStateUnchanged()
    {
        await using var h = await CreateHarnessAsync();
        using var node = Ed25519KeyPair.Generate();
        using var stranger = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(100));
        var before = await h.Manager.GetTotalsAsync();

        Assert.Equal(EconomicStatus.InsufficientFunds, (await h.Manager.StakeAsync(OperationId.New(), node.PeerId, Tokens(101))).Status);
        Assert.Equal(EconomicStatus.InvalidAmount, (await h.Manager.StakeAsync(OperationId.New(), node.PeerId, TokenAmount.Zero)).Status);
        Assert.Equal(EconomicStatus.UnknownAccount, (await h.Manager.StakeAsync(OperationId.New(), stranger.PeerId, Tokens(1))).Status);
        Assert.Equal(EconomicStatus.InsufficientFunds, (await h.Manager.StakeAsync(OperationId.New(), node.PeerId, new TokenAmount(UInt128.MaxValue))).Status);

        Assert.Equal(before, await h.Manager.GetTotalsAsync());
        Assert.Equal(Tokens(100), await h.Manager.GetBalanceAsync(node.PeerId));
        await AssertConservedAsync(h);
    }

    /// <summary>An operation id is applied at most once.</summary>
    [Fact]
    public async Task AnyOperation_ReplayedId_DuplicateAndAppliedOnce()
    {
        await using var h = await CreateHarnessAsync();
        using var node = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(100));
        var op = OperationId.New();

        Assert.Equal(EconomicStatus.Applied, (await h.Manager.StakeAsync(op, node.PeerId, Tokens(10))).Status);
        Assert.Equal(EconomicStatus.DuplicateOperation, (await h.Manager.StakeAsync(op, node.PeerId, Tokens(10))).Status);
        Assert.Equal(EconomicStatus.DuplicateOperation, (await h.Manager.RequestUnbondAsync(op, node.PeerId, Tokens(5))).Status);

        Assert.Equal(Tokens(10), (await h.Manager.GetStakeAsync(node.PeerId)).Bonded);
        await AssertConservedAsync(h);
    }

    /// <summary>Unbonded stake waits out the unbonding period before it can be withdrawn.</summary>
    [Fact]
    public async Task WithdrawUnbonded_BeforeAndAfterPeriod_OnlyAfter()
    {
        await using var h = await CreateHarnessAsync();
        using var node = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(100));
        await Applied(h.Manager.StakeAsync(OperationId.New(), node.PeerId, Tokens(100)));

        Assert.Equal(EconomicStatus.InsufficientStake, (await h.Manager.RequestUnbondAsync(OperationId.New(), node.PeerId, Tokens(101))).Status);
        await Applied(h.Manager.RequestUnbondAsync(OperationId.New(), node.PeerId, Tokens(40)));
        var stake = await h.Manager.GetStakeAsync(node.PeerId);
        Assert.Equal((Tokens(60), Tokens(40), TokenAmount.Zero), (stake.Bonded, stake.Unbonding, stake.Withdrawable));
        Assert.Equal(EconomicStatus.NotYetWithdrawable, (await h.Manager.WithdrawUnbondedAsync(OperationId.New(), node.PeerId)).Status);

        await h.AdvanceTimeAsync(h.Parameters.UnbondingPeriod - TimeSpan.FromSeconds(1));
        Assert.Equal(EconomicStatus.NotYetWithdrawable, (await h.Manager.WithdrawUnbondedAsync(OperationId.New(), node.PeerId)).Status);
        await h.AdvanceTimeAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(Tokens(40), (await h.Manager.GetStakeAsync(node.PeerId)).Withdrawable);
        await Applied(h.Manager.WithdrawUnbondedAsync(OperationId.New(), node.PeerId));

        Assert.Equal(Tokens(40), await h.Manager.GetBalanceAsync(node.PeerId));
        stake = await h.Manager.GetStakeAsync(node.PeerId);
        Assert.Equal((Tokens(60), TokenAmount.Zero, TokenAmount.Zero), (stake.Bonded, stake.Unbonding, stake.Withdrawable));
        await AssertConservedAsync(h);
    }

    /// <summary>Escrow locks the cap; settlement after the window against the node's receipt pays price minus fee and refunds the rest.</summary>
    [Fact]
    public async Task SettleEscrow_AfterWindow_PaysNodeFeeAndChange()
    {
        await using var scene = await SceneAsync();
        var (h, node, client) = (scene.Harness, scene.Node, scene.Client);
        var request = EvidenceFactory.Request(client, 11, Tokens(10));
        var requestId = new RequestId(request.Hash);
        var receipt = EvidenceFactory.Receipt(node, request, Tokens(4));
        var clientBefore = await h.Manager.GetBalanceAsync(client.PeerId);
        var nodeBefore = await h.Manager.GetBalanceAsync(node.PeerId);
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), requestId, client.PeerId, node.PeerId, Tokens(10)));
        Assert.Equal(clientBefore - Tokens(10), await h.Manager.GetBalanceAsync(client.PeerId));
        Assert.Equal(EscrowState.Open, (await h.Manager.GetEscrowAsync(requestId))!.State);

        Assert.Equal(EconomicStatus.NotAllowed, (await h.Manager.SettleEscrowAsync(OperationId.New(), request, receipt)).Status);
        await h.AdvanceTimeAsync(h.Parameters.DisputeWindow);
        Assert.Equal(EconomicStatus.InvalidAmount, (await h.Manager.SettleEscrowAsync(OperationId.New(), request, EvidenceFactory.Receipt(node, request, Tokens(11)))).Status);
        var fundBefore = (await h.Manager.GetTotalsAsync()).PublicFund;
        await Applied(h.Manager.SettleEscrowAsync(OperationId.New(), request, receipt));

        var fee = Tokens(4).MultiplyFraction(h.Parameters.ProtocolFeeBps, 10_000);
        Assert.Equal(nodeBefore + Tokens(4) - fee, await h.Manager.GetBalanceAsync(node.PeerId));
        Assert.Equal(clientBefore - Tokens(4), await h.Manager.GetBalanceAsync(client.PeerId));
        Assert.Equal(fundBefore + fee, (await h.Manager.GetTotalsAsync()).PublicFund);
        Assert.Equal(EconomicStatus.UnknownEscrow, (await h.Manager.SettleEscrowAsync(OperationId.New(), request, receipt)).Status);
        var escrow = (await h.Manager.GetEscrowAsync(requestId))!;
        Assert.Equal((EscrowState.Settled, Tokens(4)), (escrow.State, escrow.Price));
        await AssertConservedAsync(h);
    }

    /// <summary>
    /// Regression (an escrow for a request that was never served used to settle at its full cap): an
    /// escrow pays only against the escrowed node's own receipt for the escrowed, client-signed
    /// request, at a price within both caps. A receipt from another node, for another request, over
    /// a cap, or a request signed by someone other than the escrow's client never settles, and
    /// nothing moves. (A forged signature cannot even be expressed as a <see cref="SignedMessage{T}"/>,
    /// which only <see cref="SignedMessage.Open{T}"/> or a signer creates.)
    /// </summary>
    [Fact]
    public async Task SettleEscrow_WithoutTheNodesReceiptForTheRequest_NeverSettles()
    {
        await using var scene = await SceneAsync();
        var (h, node, client) = (scene.Harness, scene.Node, scene.Client);
        using var otherNode = Ed25519KeyPair.Generate();
        await h.FundAsync(otherNode.PeerId, h.Parameters.MinimumStake);
        await Applied(h.Manager.StakeAsync(OperationId.New(), otherNode.PeerId, h.Parameters.MinimumStake));
        var request = EvidenceFactory.Request(client, 21, Tokens(10));
        var otherRequest = EvidenceFactory.Request(client, 22, Tokens(10));
        var overSigned = EvidenceFactory.Request(client, 23, Tokens(10)); // escrowed with more than the client signed
        var underEscrowed = EvidenceFactory.Request(client, 24, Tokens(10)); // escrowed with less than the client signed
        var foreign = EvidenceFactory.Request(client, 25, Tokens(10)); // escrowed in someone else's name
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), new RequestId(request.Hash), client.PeerId, node.PeerId, Tokens(10)));
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), new RequestId(overSigned.Hash), client.PeerId, node.PeerId, Tokens(20)));
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), new RequestId(underEscrowed.Hash), client.PeerId, node.PeerId, Tokens(5)));
        await h.FundAsync(otherNode.PeerId, Tokens(10));
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), new RequestId(foreign.Hash), otherNode.PeerId, node.PeerId, Tokens(10)));
        await h.AdvanceTimeAsync(h.Parameters.DisputeWindow + h.Parameters.DisputeWindow / 2);
        var before = await h.Manager.GetTotalsAsync();
        var nodeBalance = await h.Manager.GetBalanceAsync(node.PeerId);

        // No receipt was ever signed for this request: the only receipts anyone holds are wrong.
        Assert.Equal(EconomicStatus.InvalidReceipt, (await h.Manager.SettleEscrowAsync(OperationId.New(), request, EvidenceFactory.Receipt(otherNode, request, Tokens(5)))).Status);
        Assert.Equal(EconomicStatus.InvalidReceipt, (await h.Manager.SettleEscrowAsync(OperationId.New(), request, EvidenceFactory.Receipt(node, otherRequest, Tokens(5)))).Status);
        Assert.Equal(EconomicStatus.UnknownEscrow, (await h.Manager.SettleEscrowAsync(OperationId.New(), otherRequest, EvidenceFactory.Receipt(node, otherRequest, Tokens(5)))).Status);
        Assert.Equal(EconomicStatus.InvalidAmount, (await h.Manager.SettleEscrowAsync(OperationId.New(), overSigned, EvidenceFactory.Receipt(node, overSigned, Tokens(15)))).Status);
        Assert.Equal(EconomicStatus.InvalidAmount, (await h.Manager.SettleEscrowAsync(OperationId.New(), underEscrowed, EvidenceFactory.Receipt(node, underEscrowed, Tokens(8)))).Status);
        Assert.Equal(EconomicStatus.InvalidReceipt, (await h.Manager.SettleEscrowAsync(OperationId.New(), foreign, EvidenceFactory.Receipt(node, foreign, Tokens(5)))).Status);

        Assert.Equal(before, await h.Manager.GetTotalsAsync());
        Assert.Equal(nodeBalance, await h.Manager.GetBalanceAsync(node.PeerId));
        foreach (var r in new[] { request, overSigned, underEscrowed, foreign })
        {
            Assert.Equal(EscrowState.Open, (await h.Manager.GetEscrowAsync(new RequestId(r.Hash)))!.State);
        }

        // The right receipt still settles, within both caps.
        await Applied(h.Manager.SettleEscrowAsync(OperationId.New(), overSigned, EvidenceFactory.Receipt(node, overSigned, Tokens(10))));
        await Applied(h.Manager.SettleEscrowAsync(OperationId.New(), underEscrowed, EvidenceFactory.Receipt(node, underEscrowed, Tokens(5))));
        await AssertConservedAsync(h);
    }

    /// <summary>
    /// Regression (a gateway paid twice for one answer: a hedged attempt that its node finished anyway
    /// had an escrow of its own, and that node claimed it beside the answer used): the attempts of one
    /// request share an escrow group, the first valid receipt presented is paid, the other attempt's
    /// receipt is refused with <see cref="EconomicStatus.AlreadyPaid"/>, its escrow is refundable at
    /// once, and no further attempt can join the paid group.
    /// </summary>
    [Fact]
    public async Task SettleEscrow_TwoAttemptsOfOneRequest_PaysOnlyTheFirstReceiptPresented()
    {
        await using var scene = await SceneAsync();
        var (h, node, client) = (scene.Harness, scene.Node, scene.Client);
        using var hedgeNode = Ed25519KeyPair.Generate();
        await h.FundAsync(hedgeNode.PeerId, h.Parameters.MinimumStake);
        await Applied(h.Manager.StakeAsync(OperationId.New(), hedgeNode.PeerId, h.Parameters.MinimumStake));
        var first = EvidenceFactory.Request(client, 41, Tokens(10));
        var hedge = EvidenceFactory.Request(client, 42, Tokens(10));
        var late = EvidenceFactory.Request(client, 43, Tokens(10));
        var (firstId, hedgeId) = (new RequestId(first.Hash), new RequestId(hedge.Hash));
        var clientBefore = await h.Manager.GetBalanceAsync(client.PeerId);
        var (nodeBefore, hedgeNodeBefore) = (await h.Manager.GetBalanceAsync(node.PeerId), await h.Manager.GetBalanceAsync(hedgeNode.PeerId));
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), firstId, client.PeerId, node.PeerId, Tokens(10), null));
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), hedgeId, client.PeerId, hedgeNode.PeerId, Tokens(10), firstId));
        Assert.Null((await h.Manager.GetEscrowAsync(firstId))!.Group);
        Assert.Equal(firstId, (await h.Manager.GetEscrowAsync(hedgeId))!.Group);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Manager.RefundEscrowAsync(OperationId.New(), hedgeId)).Status); // nothing paid yet
        await h.AdvanceTimeAsync(h.Parameters.DisputeWindow);

        // Both nodes finished and hold valid receipts; the hedge's node presents first.
        await Applied(h.Manager.SettleEscrowAsync(OperationId.New(), hedge, EvidenceFactory.Receipt(hedgeNode, hedge, Tokens(4))));
        Assert.Equal(EconomicStatus.AlreadyPaid, (await h.Manager.SettleEscrowAsync(OperationId.New(), first, EvidenceFactory.Receipt(node, first, Tokens(4)))).Status);
        Assert.Equal(EscrowState.Open, (await h.Manager.GetEscrowAsync(firstId))!.State);
        Assert.Equal(EconomicStatus.AlreadyPaid, (await h.Manager.OpenEscrowAsync(OperationId.New(), new RequestId(late.Hash), client.PeerId, node.PeerId, Tokens(10), firstId)).Status);

        // The unpaid attempt's cap goes back at once, long before its escrow would count as abandoned.
        await Applied(h.Manager.RefundEscrowAsync(OperationId.New(), firstId));
        var fee = Tokens(4).MultiplyFraction(h.Parameters.ProtocolFeeBps, 10_000);
        Assert.Equal(clientBefore - Tokens(4), await h.Manager.GetBalanceAsync(client.PeerId));
        Assert.Equal(hedgeNodeBefore + Tokens(4) - fee, await h.Manager.GetBalanceAsync(hedgeNode.PeerId));
        Assert.Equal(nodeBefore, await h.Manager.GetBalanceAsync(node.PeerId));
        Assert.Equal(EconomicStatus.UnknownEscrow, (await h.Manager.SettleEscrowAsync(OperationId.New(), first, EvidenceFactory.Receipt(node, first, Tokens(4)))).Status);
        await AssertConservedAsync(h);
    }

    /// <summary>
    /// A group is the client's own first escrow of the request: joining an unknown escrow, another
    /// client's, a member of another group or itself is refused and locks nothing.
    /// </summary>
    [Fact]
    public async Task OpenEscrow_GroupNotTheClientsFirstEscrow_RefusedStateUnchanged()
    {
        await using var scene = await SceneAsync();
        var (h, node, client) = (scene.Harness, scene.Node, scene.Client);
        using var otherClient = Ed25519KeyPair.Generate();
        await h.FundAsync(otherClient.PeerId, Tokens(100));
        var (first, member, foreign) = (RequestId.FromEnvelope([1]), RequestId.FromEnvelope([2]), RequestId.FromEnvelope([3]));
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), first, client.PeerId, node.PeerId, Tokens(1), null));
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), member, client.PeerId, node.PeerId, Tokens(1), first));
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), foreign, otherClient.PeerId, node.PeerId, Tokens(1), null));
        var before = await h.Manager.GetTotalsAsync();
        var balance = await h.Manager.GetBalanceAsync(client.PeerId);

        var fresh = RequestId.FromEnvelope([4]);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Manager.OpenEscrowAsync(OperationId.New(), fresh, client.PeerId, node.PeerId, Tokens(1), RequestId.FromEnvelope([5]))).Status);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Manager.OpenEscrowAsync(OperationId.New(), fresh, client.PeerId, node.PeerId, Tokens(1), foreign)).Status);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Manager.OpenEscrowAsync(OperationId.New(), fresh, client.PeerId, node.PeerId, Tokens(1), member)).Status);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Manager.OpenEscrowAsync(OperationId.New(), fresh, client.PeerId, node.PeerId, Tokens(1), fresh)).Status);

        Assert.Null(await h.Manager.GetEscrowAsync(fresh));
        Assert.Equal(before, await h.Manager.GetTotalsAsync());
        Assert.Equal(balance, await h.Manager.GetBalanceAsync(client.PeerId));
        await AssertConservedAsync(h);
    }

    /// <summary>What a host asks the back end before composing roles: who may serve, who is a validator, and the rules in force.</summary>
    [Fact]
    public async Task CanServeIsValidatorAndRules_FollowStakeRegistrationAndParameters()
    {
        await using var scene = await SceneAsync();
        var (h, node, client, validator) = (scene.Harness, scene.Node, scene.Client, scene.Validator);
        using var stranger = Ed25519KeyPair.Generate();

        Assert.True(await h.Manager.CanServeAsync(node.PeerId));
        Assert.False(await h.Manager.CanServeAsync(client.PeerId));
        Assert.False(await h.Manager.CanServeAsync(stranger.PeerId));
        Assert.True(await h.Manager.IsValidatorAsync(validator.PeerId));
        Assert.False(await h.Manager.IsValidatorAsync(node.PeerId));
        Assert.Equal(EconomicStatus.InsufficientStake, (await h.Manager.RegisterValidatorAsync(OperationId.New(), client.PeerId)).Status);
        Assert.False(await h.Manager.IsValidatorAsync(client.PeerId));

        var rules = await h.Manager.GetRulesAsync();
        Assert.Equal(
            (h.Parameters.MinimumStake, h.Parameters.DisputeWindow, h.Parameters.UnbondingPeriod, h.Parameters.ProtocolFeeBps),
            (rules.MinimumStake, rules.DisputeWindow, rules.UnbondingPeriod, rules.ProtocolFeeBps));

        var bonded = (await h.Manager.GetStakeAsync(node.PeerId)).Bonded;
        await Applied(h.Manager.RequestUnbondAsync(OperationId.New(), node.PeerId, bonded - h.Parameters.MinimumStake + TokenAmount.FromBaseUnits(1)));
        Assert.False(await h.Manager.CanServeAsync(node.PeerId));
        await AssertConservedAsync(h);
    }

    /// <summary>Escrows need funds, a staked node and a fresh request.</summary>
    [Fact]
    public async Task OpenEscrow_BadInput_RefusedStateUnchanged()
    {
        await using var scene = await SceneAsync();
        var (h, node, client) = (scene.Harness, scene.Node, scene.Client);
        using var unstaked = Ed25519KeyPair.Generate();
        await h.FundAsync(unstaked.PeerId, Tokens(1));
        var request = RequestId.FromEnvelope(Guid.NewGuid().ToByteArray());
        var balance = await h.Manager.GetBalanceAsync(client.PeerId);

        Assert.Equal(EconomicStatus.InsufficientFunds, (await h.Manager.OpenEscrowAsync(OperationId.New(), request, client.PeerId, node.PeerId, balance + Tokens(1))).Status);
        Assert.Equal(EconomicStatus.InvalidAmount, (await h.Manager.OpenEscrowAsync(OperationId.New(), request, client.PeerId, node.PeerId, TokenAmount.Zero)).Status);
        Assert.Equal(EconomicStatus.InsufficientStake, (await h.Manager.OpenEscrowAsync(OperationId.New(), request, client.PeerId, unstaked.PeerId, Tokens(1))).Status);
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), request, client.PeerId, node.PeerId, Tokens(1)));
        Assert.NotEqual(EconomicStatus.Applied, (await h.Manager.OpenEscrowAsync(OperationId.New(), request, client.PeerId, node.PeerId, Tokens(1))).Status);
        var never = EvidenceFactory.Request(client, 31, Tokens(1));
        Assert.Equal(EconomicStatus.UnknownEscrow, (await h.Manager.SettleEscrowAsync(OperationId.New(), never, EvidenceFactory.Receipt(node, never, Tokens(1)))).Status);

        Assert.Equal(balance - Tokens(1), await h.Manager.GetBalanceAsync(client.PeerId));
        await AssertConservedAsync(h);
    }

    /// <summary>A fraud verdict slashes the node, pays challenger and fund, burns the rest, and refunds the request's escrow.</summary>
    [Fact]
    public async Task Slash_FraudVerdictInsideWindow_SlashesSplitsAndRefunds()
    {
        await using var scene = await SceneAsync();
        var (h, node, client, challenger) = (scene.Harness, scene.Node, scene.Client, scene.Challenger);
        var (request, receipt) = scene.Transaction(1);
        var requestId = new RequestId(request.Hash);
        var clientBefore = await h.Manager.GetBalanceAsync(client.PeerId);
        await Applied(h.Manager.OpenEscrowAsync(OperationId.New(), requestId, client.PeerId, node.PeerId, Tokens(10)));
        var stakeBefore = await h.Manager.GetStakeAsync(node.PeerId);
        var totalsBefore = await h.Manager.GetTotalsAsync();

        await Applied(h.Manager.SlashAsync(OperationId.New(), scene.Fraud(request, receipt), challenger.PeerId));

        var slash = stakeBefore.Bonded.MultiplyFraction(h.Parameters.SlashFractionBps, 10_000);
        var toChallenger = slash.MultiplyFraction(h.Parameters.ChallengerShareBps, 10_000);
        var toFund = slash.MultiplyFraction(h.Parameters.PublicFundShareBps, 10_000);
        Assert.Equal(stakeBefore.Bonded - slash, (await h.Manager.GetStakeAsync(node.PeerId)).Bonded);
        Assert.Equal(Tokens(1) + toChallenger, await h.Manager.GetBalanceAsync(challenger.PeerId));
        var totals = await h.Manager.GetTotalsAsync();
        Assert.Equal(totalsBefore.PublicFund + toFund, totals.PublicFund);
        Assert.Equal(totalsBefore.Burned + (slash - toChallenger - toFund), totals.Burned);
        Assert.Equal(clientBefore, await h.Manager.GetBalanceAsync(client.PeerId));
        Assert.Equal(EscrowState.Refunded, (await h.Manager.GetEscrowAsync(requestId))!.State);

        await h.AdvanceTimeAsync(h.Parameters.DisputeWindow);
        Assert.NotEqual(EconomicStatus.Applied, (await h.Manager.SettleEscrowAsync(OperationId.New(), request, receipt)).Status);
        await AssertConservedAsync(h);
    }

    /// <summary>Evidence is used once, whoever re-submits it and under whatever operation id.</summary>
    [Fact]
    public async Task Slash_SameOffenceTwice_EvidenceAlreadyUsed()
    {
        await using var scene = await SceneAsync();
        var (h, node, challenger) = (scene.Harness, scene.Node, scene.Challenger);
        using var validator2 = Ed25519KeyPair.Generate();
        await h.RegisterValidatorAsync(validator2.PeerId);
        var (request, receipt) = scene.Transaction(1);
        var evidence = scene.Fraud(request, receipt);
        await Applied(h.Manager.SlashAsync(OperationId.New(), evidence, challenger.PeerId));
        var after = await h.Manager.GetTotalsAsync();

        Assert.Equal(EconomicStatus.EvidenceAlreadyUsed, (await h.Manager.SlashAsync(OperationId.New(), evidence, challenger.PeerId)).Status);
        var second = EvidenceFactory.Fraud(challenger, node.PeerId, EvidenceFactory.Verdict(validator2, receipt, node.PeerId), request, receipt);
        Assert.Equal(EconomicStatus.EvidenceAlreadyUsed, (await h.Manager.SlashAsync(OperationId.New(), second, challenger.PeerId)).Status);
        Assert.Equal(after, await h.Manager.GetTotalsAsync());
        await AssertConservedAsync(h);
    }

    /// <summary>Stake waiting out its unbonding period is still slashable.</summary>
    [Fact]
    public async Task Slash_AllStakeUnbonding_StillSlashed()
    {
        await using var scene = await SceneAsync();
        var (h, node, challenger) = (scene.Harness, scene.Node, scene.Challenger);
        var bonded = (await h.Manager.GetStakeAsync(node.PeerId)).Bonded;
        await Applied(h.Manager.RequestUnbondAsync(OperationId.New(), node.PeerId, bonded));
        var (request, receipt) = scene.Transaction(2);

        await Applied(h.Manager.SlashAsync(OperationId.New(), scene.Fraud(request, receipt), challenger.PeerId));

        var slash = bonded.MultiplyFraction(h.Parameters.SlashFractionBps, 10_000);
        var stake = await h.Manager.GetStakeAsync(node.PeerId);
        Assert.Equal(TokenAmount.Zero, stake.Bonded);
        Assert.Equal(bonded - slash, stake.Unbonding);
        await h.AdvanceTimeAsync(h.Parameters.UnbondingPeriod);
        await Applied(h.Manager.WithdrawUnbondedAsync(OperationId.New(), node.PeerId));
        Assert.Equal(TokenAmount.Zero, (await h.Manager.GetStakeAsync(node.PeerId)).Withdrawable);
        await AssertConservedAsync(h);
    }

    /// <summary>Forged, mismatched or self-serving evidence is refused and changes nothing.</summary>
    [Fact]
    public async Task Slash_ForgedOrMismatchedEvidence_InvalidEvidenceStateUnchanged()
    {
        await using var scene = await SceneAsync();
        var (h, node, client, validator, challenger) = (scene.Harness, scene.Node, scene.Client, scene.Validator, scene.Challenger);
        using var other = Ed25519KeyPair.Generate();
        await h.FundAsync(other.PeerId, Tokens(1));
        var (request, receipt) = scene.Transaction(3);
        var otherReceipt = EvidenceFactory.Receipt(node, request, Tokens(5), variant: 1);
        var before = await h.Manager.GetTotalsAsync();

        SignedMessage<Evidence>[] forged =
        [
            // the verdict names another node
            EvidenceFactory.Fraud(challenger, node.PeerId, EvidenceFactory.Verdict(validator, receipt, other.PeerId), request, receipt),
            // the verdict is not fraud
            EvidenceFactory.Fraud(challenger, node.PeerId, EvidenceFactory.Verdict(validator, receipt, node.PeerId, VerdictOutcome.Valid), request, receipt),
            // the verdict judges another receipt
            EvidenceFactory.Fraud(challenger, node.PeerId, EvidenceFactory.Verdict(validator, otherReceipt, node.PeerId), request, receipt),
            // the accused did not sign the receipt
            EvidenceFactory.Fraud(challenger, other.PeerId, EvidenceFactory.Verdict(validator, receipt, other.PeerId), request, receipt),
            // the node judges itself
            EvidenceFactory.Fraud(challenger, node.PeerId, EvidenceFactory.Verdict(node, receipt, node.PeerId), request, receipt),
            // the receipt answers another request
            EvidenceFactory.Fraud(challenger, node.PeerId, EvidenceFactory.Verdict(validator, receipt, node.PeerId), EvidenceFactory.Request(client, 4, Tokens(10)), receipt),
        ];
        foreach (var evidence in forged)
        {
            Assert.Equal(EconomicStatus.InvalidEvidence, (await h.Manager.SlashAsync(OperationId.New(), evidence, challenger.PeerId)).Status);
        }

        // Valid evidence, but submitted for someone other than its signer.
        Assert.Equal(EconomicStatus.InvalidEvidence, (await h.Manager.SlashAsync(OperationId.New(), scene.Fraud(request, receipt), other.PeerId)).Status);

        Assert.Equal(before, await h.Manager.GetTotalsAsync());
        await AssertConservedAsync(h);
    }

    /// <summary>Two different receipts signed by one node for one request are slashable once; pending or identical records are not.</summary>
    [Fact]
    public async Task Slash_Equivocation_SlashedOnceOthersRefused()
    {
        await using var scene = await SceneAsync();
        var (h, node, client, challenger) = (scene.Harness, scene.Node, scene.Client, scene.Challenger);
        var (request, receipt) = scene.Transaction(5);
        var a = EvidenceFactory.Record(node, request, receipt);
        var b = EvidenceFactory.Record(node, request, EvidenceFactory.Receipt(node, request, Tokens(5), variant: 1));
        var pending = EvidenceFactory.Record(node, request, null);
        var byClient = EvidenceFactory.Record(client, request, EvidenceFactory.Receipt(node, request, Tokens(5), variant: 2));

        Assert.Equal(EconomicStatus.InvalidEvidence, (await h.Manager.SlashAsync(OperationId.New(), EvidenceFactory.Equivocation(challenger, node.PeerId, a, a), challenger.PeerId)).Status);
        Assert.Equal(EconomicStatus.InvalidEvidence, (await h.Manager.SlashAsync(OperationId.New(), EvidenceFactory.Equivocation(challenger, node.PeerId, a, pending), challenger.PeerId)).Status);
        Assert.Equal(EconomicStatus.InvalidEvidence, (await h.Manager.SlashAsync(OperationId.New(), EvidenceFactory.Equivocation(challenger, node.PeerId, a, byClient), challenger.PeerId)).Status);
        var bonded = (await h.Manager.GetStakeAsync(node.PeerId)).Bonded;

        await Applied(h.Manager.SlashAsync(OperationId.New(), EvidenceFactory.Equivocation(challenger, node.PeerId, a, b), challenger.PeerId));
        Assert.Equal(bonded - bonded.MultiplyFraction(h.Parameters.SlashFractionBps, 10_000), (await h.Manager.GetStakeAsync(node.PeerId)).Bonded);
        Assert.Equal(EconomicStatus.EvidenceAlreadyUsed, (await h.Manager.SlashAsync(OperationId.New(), EvidenceFactory.Equivocation(challenger, node.PeerId, b, a), challenger.PeerId)).Status);
        await AssertConservedAsync(h);
    }

    /// <summary>Many tasks racing to spend one balance: exactly as many succeed as the balance allows; a shared operation id applies once.</summary>
    [Fact]
    public async Task ConcurrentConflictingOperations_OnlyAffordableApplied()
    {
        await using var h = await CreateHarnessAsync();
        using var node = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(100));

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => h.Manager.StakeAsync(OperationId.New(), node.PeerId, Tokens(7)))));
        Assert.Equal(14, results.Count(r => r.IsApplied));
        Assert.All(results.Where(r => !r.IsApplied), r => Assert.Equal(EconomicStatus.InsufficientFunds, r.Status));

        var shared = OperationId.New();
        var same = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => h.Manager.RequestUnbondAsync(shared, node.PeerId, Tokens(1)))));
        Assert.Single(same, r => r.IsApplied);
        Assert.All(same.Where(r => !r.IsApplied), r => Assert.Equal(EconomicStatus.DuplicateOperation, r.Status));

        var stake = await h.Manager.GetStakeAsync(node.PeerId);
        Assert.Equal((Tokens(97), Tokens(1)), (stake.Bonded, stake.Unbonding));
        Assert.Equal(Tokens(2), await h.Manager.GetBalanceAsync(node.PeerId));
        await AssertConservedAsync(h);
    }

    /// <summary>Whole tokens.</summary>
    protected static TokenAmount Tokens(ulong tokens) => TokenAmount.FromTokens(tokens);

    /// <summary>Asserts that every base unit is accounted for.</summary>
    protected static async Task AssertConservedAsync(IStakeManagerHarness harness)
    {
        ArgumentNullException.ThrowIfNull(harness);
        var totals = await harness.Manager.GetTotalsAsync();
        Assert.True(totals.IsConserved, $"money not conserved: {totals}");
    }

    private static async Task Applied(Task<EconomicResult> operation)
    {
        var result = await operation;
        Assert.True(result.IsApplied, $"{result.Status}: {result.Detail}");
    }

    /// <summary>
    /// A fresh ledger with a node bonding twice the minimum stake, a client with 1,000 tokens, a
    /// registered validator and a challenger holding 1 token.
    /// </summary>
    private async Task<Scene> SceneAsync()
    {
        var scene = new Scene(await CreateHarnessAsync());
        try
        {
            var harness = scene.Harness;
            var stake = harness.Parameters.MinimumStake + harness.Parameters.MinimumStake;
            await harness.FundAsync(scene.Node.PeerId, stake);
            await Applied(harness.Manager.StakeAsync(OperationId.New(), scene.Node.PeerId, stake));
            await harness.FundAsync(scene.Client.PeerId, Tokens(1_000));
            await harness.RegisterValidatorAsync(scene.Validator.PeerId);
            await harness.FundAsync(scene.Challenger.PeerId, Tokens(1));
            return scene;
        }
        catch
        {
            await scene.DisposeAsync();
            throw;
        }
    }

    /// <summary>The parties of a contract test and the ledger they meet on (disposes all of them).</summary>
    private sealed class Scene(IStakeManagerHarness harness) : IAsyncDisposable
    {
        public IStakeManagerHarness Harness { get; } = harness;

        public Ed25519KeyPair Node { get; } = Ed25519KeyPair.Generate();

        public Ed25519KeyPair Client { get; } = Ed25519KeyPair.Generate();

        public Ed25519KeyPair Validator { get; } = Ed25519KeyPair.Generate();

        public Ed25519KeyPair Challenger { get; } = Ed25519KeyPair.Generate();

        /// <summary>A request of the client (cap 10) and the node's receipt for it (price 5).</summary>
        public (SignedMessage<InferenceRequest> Request, SignedMessage<InferenceReceipt> Receipt) Transaction(ulong nonce)
        {
            var request = EvidenceFactory.Request(Client, nonce, Tokens(10));
            return (request, EvidenceFactory.Receipt(Node, request, Tokens(5)));
        }

        /// <summary>The challenger's evidence carrying the validator's fraud verdict against the node's receipt.</summary>
        public SignedMessage<Evidence> Fraud(SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt) =>
            EvidenceFactory.Fraud(Challenger, Node.PeerId, EvidenceFactory.Verdict(Validator, receipt, Node.PeerId), request, receipt);

        public async ValueTask DisposeAsync()
        {
            Node.Dispose();
            Client.Dispose();
            Validator.Dispose();
            Challenger.Dispose();
            await Harness.DisposeAsync();
        }
    }
}
