using PoIP.Core.Economics;
using PoIP.Core.Money;
using PoIP.Core.Proofs;

namespace PoIP.Economics.Tests.Accountability;

/// <summary>Rule 1 (quorum) and rule 3 (validators overturned by the quorum), on a real SQLite ledger.</summary>
public sealed class QuorumTests
{
    private static readonly TokenAmount Half = TokenAmount.ParseTokens("500");
    private static readonly TokenAmount ValidatorStake = TokenAmount.ParseTokens("100");

    [Fact]
    public async Task SubmitVerdict_FewerFraudVerdictsThanQuorum_StakeNotCut()
    {
        await using var court = await Court.OpenAsync(new AccountabilityRules(3, TimeSpan.Zero, 3), 4);

        Assert.True((await court.VoteAsync(0, VerdictOutcome.Fraud)).IsApplied);
        Assert.True((await court.VoteAsync(1, VerdictOutcome.Fraud)).IsApplied);
        Assert.Equal(Court.NodeStake, await court.BondedAsync(court.Node.PeerId));
        Assert.Equal(DisputeState.Open, (await court.CaseAsync()).State);

        var third = await court.VoteAsync(2, VerdictOutcome.Fraud);

        Assert.True(third.IsApplied, third.Detail);
        Assert.Equal(DisputeState.Executed, (await court.CaseAsync()).State);
        Assert.Equal(Half, await court.BondedAsync(court.Node.PeerId));
        Assert.Equal(TokenAmount.ParseTokens("100"), await court.Harness.Embedded.GetBalanceAsync(court.Validators[0].PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task SlashAsync_DeferredRules_CountsAsOneVerdictInsteadOfSlashing()
    {
        await using var court = await Court.OpenAsync(new AccountabilityRules(2, TimeSpan.Zero, 3), 3);
        var v0 = court.Validators[0];
        var evidence = Testing.Economics.EvidenceFactory.Fraud(v0, court.Node.PeerId, Court.Verdict(v0, court.Receipt, VerdictOutcome.Fraud), court.Request, court.Receipt);

        var result = await court.Harness.Embedded.SlashAsync(OperationId.New(), evidence, v0.PeerId);

        Assert.True(result.IsApplied, result.Detail);
        Assert.Equal(Court.NodeStake, await court.BondedAsync(court.Node.PeerId));
        Assert.Equal([v0.PeerId], (await court.CaseAsync()).FraudVerdicts);
        Assert.True((await court.VoteAsync(1, VerdictOutcome.Fraud)).IsApplied);
        Assert.Equal(Half, await court.BondedAsync(court.Node.PeerId));
        Assert.Equal(EconomicStatus.EvidenceAlreadyUsed, (await court.Harness.Embedded.SlashAsync(OperationId.New(), evidence, v0.PeerId)).Status);
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task SubmitVerdict_ValidQuorumFirst_AcquitsAndSlashesTheAccuser()
    {
        await using var court = await Court.OpenAsync(new AccountabilityRules(2, TimeSpan.Zero, 3), 3);

        Assert.True((await court.VoteAsync(0, VerdictOutcome.Fraud)).IsApplied);
        Assert.True((await court.VoteAsync(1, VerdictOutcome.Valid)).IsApplied);
        Assert.True((await court.VoteAsync(2, VerdictOutcome.Valid)).IsApplied);

        Assert.Equal(DisputeState.Cancelled, (await court.CaseAsync()).State);
        Assert.Equal(Court.NodeStake, await court.BondedAsync(court.Node.PeerId));

        // The accuser loses half its stake; its challenger share (20 %) compensates the node; it is deregistered (below the minimum).
        Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(court.Validators[0].PeerId));
        Assert.Equal(TokenAmount.ParseTokens("10"), await court.Harness.Embedded.GetBalanceAsync(court.Node.PeerId));
        Assert.False(await court.Harness.Embedded.IsValidatorAsync(court.Validators[0].PeerId));
        Assert.Equal(ValidatorStake, await court.BondedAsync(court.Validators[1].PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task FinalizeCase_ValidVerdictAfterConviction_SlashedWithTheNode()
    {
        await using var court = await Court.OpenAsync(new AccountabilityRules(2, TimeSpan.FromHours(1), 3), 3);
        Assert.True((await court.VoteAsync(0, VerdictOutcome.Fraud)).IsApplied);
        Assert.True((await court.VoteAsync(1, VerdictOutcome.Fraud)).IsApplied);
        Assert.Equal(DisputeState.Convicted, (await court.CaseAsync()).State);
        Assert.True((await court.VoteAsync(2, VerdictOutcome.Valid)).IsApplied);

        Assert.Equal(EconomicStatus.NotAllowed, (await court.Ledger.FinalizeCaseAsync(OperationId.New(), court.ReceiptId)).Status);
        Assert.Equal(Court.NodeStake, await court.BondedAsync(court.Node.PeerId));
        await court.Harness.AdvanceTimeAsync(TimeSpan.FromHours(1));
        var done = await court.Ledger.FinalizeCaseAsync(OperationId.New(), court.ReceiptId);

        Assert.True(done.IsApplied, done.Detail);
        Assert.Equal(Half, await court.BondedAsync(court.Node.PeerId));
        Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(court.Validators[2].PeerId));

        // The opener (validator 0) gets the node's challenger share (100) and the lying validator's (10).
        Assert.Equal(TokenAmount.ParseTokens("110"), await court.Harness.Embedded.GetBalanceAsync(court.Validators[0].PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task SettleEscrow_CasePending_RefusedUntilAcquitted()
    {
        await using var court = await Court.OpenAsync(new AccountabilityRules(2, TimeSpan.Zero, 3), 3);
        var requestId = new Core.Hashing.RequestId(court.Request.Hash);
        Assert.True((await court.Harness.Embedded.OpenEscrowAsync(OperationId.New(), requestId, court.Client.PeerId, court.Node.PeerId, TokenAmount.ParseTokens("1"))).IsApplied);
        Assert.True((await court.VoteAsync(0, VerdictOutcome.Fraud)).IsApplied);
        await court.Harness.AdvanceTimeAsync(TimeSpan.FromDays(1));

        Assert.Equal(EconomicStatus.NotAllowed, (await court.Harness.Embedded.SettleEscrowAsync(OperationId.New(), court.Request, court.Receipt)).Status);
        Assert.True((await court.VoteAsync(1, VerdictOutcome.Valid)).IsApplied);
        Assert.True((await court.VoteAsync(2, VerdictOutcome.Valid)).IsApplied);
        Assert.True((await court.Harness.Embedded.SettleEscrowAsync(OperationId.New(), court.Request, court.Receipt)).IsApplied);
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task DefaultRules_OneVerdictSlashesAtOnce()
    {
        await using var court = await Court.OpenAsync(AccountabilityRules.Default, 1);

        Assert.Equal(AccountabilityRules.Default, await court.Ledger.GetAccountabilityRulesAsync());
        Assert.False((await court.Ledger.GetAccountabilityRulesAsync()).Deferred);
        Assert.True((await court.VoteAsync(0, VerdictOutcome.Fraud)).IsApplied);
        Assert.Equal(Half, await court.BondedAsync(court.Node.PeerId));
        await court.AssertConservedAsync();
    }
}
