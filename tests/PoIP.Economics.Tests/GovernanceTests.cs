using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Governance;
using PoIP.Economics.Parameters;
using PoIP.Testing.Economics;

namespace PoIP.Economics.Tests;

public sealed class GovernanceTests
{
    private static TokenAmount Tokens(ulong n) => TokenAmount.FromTokens(n);

    [Fact]
    public async Task ParameterChange_PassedVote_TakesEffectOnlyAfterTimelock()
    {
        await using var h = new EmbeddedHarness();
        using var big = Ed25519KeyPair.Generate();
        using var small = Ed25519KeyPair.Generate();
        await StakeAsync(h, big, 700);
        await StakeAsync(h, small, 300);
        var op = OperationId.New();
        var proposal = ProposalId.From(op);

        Assert.True((await h.Embedded.Governance.ProposeParameterChangeAsync(op, big.PeerId, EconomicParameter.AuditProbabilityBps, 2_000)).IsApplied);
        Assert.True((await h.Embedded.Governance.VoteAsync(OperationId.New(), proposal, big.PeerId, support: true)).IsApplied);
        Assert.True((await h.Embedded.Governance.VoteAsync(OperationId.New(), proposal, small.PeerId, support: false)).IsApplied);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Embedded.Governance.VoteAsync(OperationId.New(), proposal, small.PeerId, support: true)).Status);
        var info = await h.Embedded.Governance.GetProposalAsync(proposal);
        Assert.Equal((Tokens(700), Tokens(300), ProposalState.Open), (info!.Yes, info.No, info.State));

        h.Clock.Advance(h.Options.InitialParameters.VotingPeriod);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Embedded.Governance.VoteAsync(OperationId.New(), proposal, big.PeerId, support: true)).Status);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Embedded.Governance.ExecuteAsync(OperationId.New(), proposal)).Status);
        Assert.Equal(500u, (await h.Embedded.GetParametersAsync()).AuditProbabilityBps);

        h.Clock.Advance(h.Options.InitialParameters.Timelock);
        var executed = await h.Embedded.Governance.ExecuteAsync(OperationId.New(), proposal);
        Assert.True(executed.IsApplied, executed.Detail);
        Assert.Equal("executed.", executed.Detail);
        Assert.Equal(2_000u, (await h.Embedded.GetParametersAsync()).AuditProbabilityBps);
        Assert.Equal(ProposalState.Executed, (await h.Embedded.Governance.GetProposalAsync(proposal))!.State);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Embedded.Governance.ExecuteAsync(OperationId.New(), proposal)).Status);
    }

    [Fact]
    public async Task ParameterChange_SlashFractionPassed_InForce()
    {
        await using var h = new EmbeddedHarness();
        using var voter = Ed25519KeyPair.Generate();
        await StakeAsync(h, voter, 1_000);
        var proposal = await PassAsync(h, voter, EconomicParameter.SlashFractionBps, 10_000);
        Assert.Equal(ProposalState.Executed, (await h.Embedded.Governance.GetProposalAsync(proposal))!.State);
        Assert.Equal(10_000u, (await h.Embedded.GetParametersAsync()).SlashFractionBps);
    }

    [Fact]
    public async Task Propose_OutOfRangeOrWithoutStake_RefusedStateUnchanged()
    {
        await using var h = new EmbeddedHarness();
        using var staker = Ed25519KeyPair.Generate();
        using var poor = Ed25519KeyPair.Generate();
        await StakeAsync(h, staker, 100);
        await h.FundAsync(poor.PeerId, Tokens(100));

        foreach (var (parameter, value) in new (EconomicParameter, UInt128)[]
        {
            (EconomicParameter.AuditProbabilityBps, 0),
            (EconomicParameter.AuditProbabilityBps, 10_001),
            (EconomicParameter.SlashFractionBps, 99),
            (EconomicParameter.ChallengerShareBps, 5_001),
            (EconomicParameter.ProtocolFeeBps, 2_001),
            (EconomicParameter.DisputeWindowSeconds, 59),
            (EconomicParameter.UnbondingPeriodSeconds, 61 * 86_400),
            (EconomicParameter.MinimumStake, 0),
            (EconomicParameter.ApprovalThresholdBps, 4_999),
            ((EconomicParameter)999, 1),
        })
        {
            Assert.Equal(EconomicStatus.InvalidAmount, (await h.Embedded.Governance.ProposeParameterChangeAsync(OperationId.New(), staker.PeerId, parameter, value)).Status);
        }

        var op = OperationId.New();
        Assert.Equal(EconomicStatus.InsufficientStake, (await h.Embedded.Governance.ProposeParameterChangeAsync(op, poor.PeerId, EconomicParameter.ProtocolFeeBps, 200)).Status);
        Assert.Null(await h.Embedded.Governance.GetProposalAsync(ProposalId.From(op)));

        var ok = OperationId.New();
        Assert.True((await h.Embedded.Governance.ProposeParameterChangeAsync(ok, staker.PeerId, EconomicParameter.ProtocolFeeBps, 200)).IsApplied);
        Assert.Equal(EconomicStatus.InsufficientStake, (await h.Embedded.Governance.VoteAsync(OperationId.New(), ProposalId.From(ok), poor.PeerId, true)).Status);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Embedded.Governance.VoteAsync(OperationId.New(), new ProposalId(Guid.NewGuid()), staker.PeerId, true)).Status);
    }

    [Fact]
    public async Task Proposal_BelowQuorumOrThreshold_Rejected()
    {
        await using var h = new EmbeddedHarness();
        using var whale = Ed25519KeyPair.Generate();
        using var minnow = Ed25519KeyPair.Generate();
        await StakeAsync(h, whale, 900);
        await StakeAsync(h, minnow, 100);

        // 100 of 1,000 bonded votes: below the 20% quorum.
        var quorumOp = OperationId.New();
        Assert.True((await h.Embedded.Governance.ProposeParameterChangeAsync(quorumOp, minnow.PeerId, EconomicParameter.ProtocolFeeBps, 50)).IsApplied);
        Assert.True((await h.Embedded.Governance.VoteAsync(OperationId.New(), ProposalId.From(quorumOp), minnow.PeerId, true)).IsApplied);

        // Quorum met but 900 no against 100 yes.
        var thresholdOp = OperationId.New();
        Assert.True((await h.Embedded.Governance.ProposeParameterChangeAsync(thresholdOp, minnow.PeerId, EconomicParameter.ProtocolFeeBps, 60)).IsApplied);
        Assert.True((await h.Embedded.Governance.VoteAsync(OperationId.New(), ProposalId.From(thresholdOp), minnow.PeerId, true)).IsApplied);
        Assert.True((await h.Embedded.Governance.VoteAsync(OperationId.New(), ProposalId.From(thresholdOp), whale.PeerId, false)).IsApplied);

        h.Clock.Advance(h.Options.InitialParameters.VotingPeriod + h.Options.InitialParameters.Timelock);
        var first = await h.Embedded.Governance.ExecuteAsync(OperationId.New(), ProposalId.From(quorumOp));
        var second = await h.Embedded.Governance.ExecuteAsync(OperationId.New(), ProposalId.From(thresholdOp));

        Assert.Contains("quorum", first.Detail, StringComparison.Ordinal);
        Assert.Contains("threshold", second.Detail, StringComparison.Ordinal);
        Assert.Equal(ProposalState.Rejected, (await h.Embedded.Governance.GetProposalAsync(ProposalId.From(quorumOp)))!.State);
        Assert.Equal(100u, (await h.Embedded.GetParametersAsync()).ProtocolFeeBps);
    }

    [Fact]
    public async Task Grant_FundedByFees_PaidWhenPassedRejectedWhenFundTooSmall()
    {
        await using var h = new EmbeddedHarness();
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        using var builder = Ed25519KeyPair.Generate();
        await StakeAsync(h, node, 1_000);
        await h.FundAsync(client.PeerId, Tokens(10_000));
        await h.FundAsync(builder.PeerId, Tokens(1));

        // Fees: 1% of a 5,000-token settlement = 50 tokens in the fund.
        var request = EvidenceFactory.Request(client, 1, Tokens(5_000));
        Assert.True((await h.Embedded.OpenEscrowAsync(OperationId.New(), new RequestId(request.Hash), client.PeerId, node.PeerId, Tokens(5_000))).IsApplied);
        h.Clock.Advance(h.Options.InitialParameters.DisputeWindow);
        Assert.True((await h.Embedded.SettleEscrowAsync(OperationId.New(), request, EvidenceFactory.Receipt(node, request, Tokens(5_000)))).IsApplied);
        Assert.Equal(Tokens(50), await h.Embedded.GetPublicFundAsync());

        var tooBig = OperationId.New();
        Assert.True((await h.Embedded.Governance.ProposeGrantAsync(tooBig, node.PeerId, builder.PeerId, Tokens(51))).IsApplied);
        var fits = OperationId.New();
        Assert.True((await h.Embedded.Governance.ProposeGrantAsync(fits, node.PeerId, builder.PeerId, Tokens(30))).IsApplied);
        foreach (var op in new[] { tooBig, fits })
        {
            Assert.True((await h.Embedded.Governance.VoteAsync(OperationId.New(), ProposalId.From(op), node.PeerId, true)).IsApplied);
        }

        h.Clock.Advance(h.Options.InitialParameters.VotingPeriod + h.Options.InitialParameters.Timelock);
        Assert.Contains("fund is too small", (await h.Embedded.Governance.ExecuteAsync(OperationId.New(), ProposalId.From(tooBig))).Detail, StringComparison.Ordinal);
        Assert.Equal("executed.", (await h.Embedded.Governance.ExecuteAsync(OperationId.New(), ProposalId.From(fits))).Detail);

        Assert.Equal(Tokens(31), await h.Embedded.GetBalanceAsync(builder.PeerId));
        Assert.Equal(Tokens(20), await h.Embedded.GetPublicFundAsync());
        Assert.True((await h.Embedded.GetTotalsAsync()).IsConserved);
    }

    [Fact]
    public async Task ParameterChange_BreaksSlashSplit_RejectedAtExecution()
    {
        await using var h = new EmbeddedHarness();
        using var voter = Ed25519KeyPair.Generate();
        await StakeAsync(h, voter, 1_000);
        // Each value is in its own range, but 5,000 + 6,000 > 10,000 with the default challenger share raised.
        await PassAsync(h, voter, EconomicParameter.ChallengerShareBps, 5_000);
        var proposal = await PassAsync(h, voter, EconomicParameter.PublicFundShareBps, 6_000);
        Assert.Equal(ProposalState.Rejected, (await h.Embedded.Governance.GetProposalAsync(proposal))!.State);
        var p = await h.Embedded.GetParametersAsync();
        Assert.Equal((5_000u, 3_000u), (p.ChallengerShareBps, p.PublicFundShareBps));
    }

    private static async Task StakeAsync(EmbeddedHarness h, Ed25519KeyPair key, ulong tokens)
    {
        await h.FundAsync(key.PeerId, Tokens(tokens));
        Assert.True((await h.Embedded.StakeAsync(OperationId.New(), key.PeerId, Tokens(tokens))).IsApplied);
    }

    private static async Task<ProposalId> PassAsync(EmbeddedHarness h, Ed25519KeyPair voter, EconomicParameter parameter, UInt128 value)
    {
        var op = OperationId.New();
        Assert.True((await h.Embedded.Governance.ProposeParameterChangeAsync(op, voter.PeerId, parameter, value)).IsApplied);
        Assert.True((await h.Embedded.Governance.VoteAsync(OperationId.New(), ProposalId.From(op), voter.PeerId, true)).IsApplied);
        h.Clock.Advance(h.Options.InitialParameters.VotingPeriod + h.Options.InitialParameters.Timelock);
        Assert.True((await h.Embedded.Governance.ExecuteAsync(OperationId.New(), ProposalId.From(op))).IsApplied);
        return ProposalId.From(op);
    }
}
