using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Proofs;

namespace PoIP.Economics.Tests.Accountability;

/// <summary>Rule 2 (appeal to a freshly drawn panel) and rule 3 (validators overturned by the appeal).</summary>
public sealed class AppealTests
{
    private static readonly AccountabilityRules Rules = new(2, TimeSpan.FromHours(1), 3);

    private static async Task<Court> ConvictedAsync()
    {
        var court = await Court.OpenAsync(Rules, 6);
        Assert.True((await court.VoteAsync(0, VerdictOutcome.Fraud)).IsApplied);
        Assert.True((await court.VoteAsync(1, VerdictOutcome.Fraud)).IsApplied);
        Assert.Equal(DisputeState.Convicted, (await court.CaseAsync()).State);
        return court;
    }

    [Fact]
    public async Task Appeal_ByNode_DrawsVerifiablePanelExcludingFirstVerdicts()
    {
        await using var court = await ConvictedAsync();
        var convicted = await court.CaseAsync();

        var result = await court.AppealAsync(court.Node);

        Assert.True(result.IsApplied, result.Detail);
        var appealed = await court.CaseAsync();
        Assert.Equal(DisputeState.Appealed, appealed.State);
        Assert.Equal(3, appealed.Panel.Count);
        Assert.DoesNotContain(court.Validators[0].PeerId, appealed.Panel);
        Assert.DoesNotContain(court.Validators[1].PeerId, appealed.Panel);

        // Anyone recomputes the panel from public data: the conviction time and the convicting verdicts.
        var hashes = new[] { Court.Verdict(court.Validators[0], court.Receipt, VerdictOutcome.Fraud).Hash, Court.Verdict(court.Validators[1], court.Receipt, VerdictOutcome.Fraud).Hash };
        var seed = AppealDraw.Seed(court.ReceiptId, convicted.DecidedAt!.Value.ToUnixTimeMilliseconds(), hashes);
        var expected = AppealDraw.Draw(seed, court.Validators.Skip(2).Select(v => v.PeerId), 3);
        Assert.Equal(expected.OrderBy(p => p.ToString()), appealed.Panel.OrderBy(p => p.ToString()));
        Assert.Equal(Court.NodeStake, await court.BondedAsync(court.Node.PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task Appeal_PanelFindsValid_SlashCancelledAndAccusersSlashed()
    {
        await using var court = await ConvictedAsync();
        Assert.True((await court.AppealAsync(court.Node)).IsApplied);
        var panel = (await court.CaseAsync()).Panel;

        Assert.True((await court.VoteAsync(court.IndexOf(panel[0]), VerdictOutcome.Valid)).IsApplied);
        Assert.Equal(DisputeState.Appealed, (await court.CaseAsync()).State);
        Assert.True((await court.VoteAsync(court.IndexOf(panel[1]), VerdictOutcome.Valid)).IsApplied);

        Assert.Equal(DisputeState.Cancelled, (await court.CaseAsync()).State);
        Assert.Equal(Court.NodeStake, await court.BondedAsync(court.Node.PeerId));
        Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(court.Validators[0].PeerId));
        Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(court.Validators[1].PeerId));

        // Each overturned accuser's challenger share (10) compensates the node.
        Assert.Equal(TokenAmount.ParseTokens("20"), await court.Harness.Embedded.GetBalanceAsync(court.Node.PeerId));
        Assert.Equal(EconomicStatus.NotAllowed, (await court.Ledger.FinalizeCaseAsync(OperationId.New(), court.ReceiptId)).Status);
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task Appeal_PanelFindsFraud_SlashExecutesAndDissenterSlashed()
    {
        await using var court = await ConvictedAsync();
        Assert.True((await court.AppealAsync(court.Node)).IsApplied);
        var panel = (await court.CaseAsync()).Panel;

        Assert.True((await court.VoteAsync(court.IndexOf(panel[0]), VerdictOutcome.Valid)).IsApplied);
        Assert.True((await court.VoteAsync(court.IndexOf(panel[1]), VerdictOutcome.Fraud)).IsApplied);
        Assert.True((await court.VoteAsync(court.IndexOf(panel[2]), VerdictOutcome.Fraud)).IsApplied);

        Assert.Equal(DisputeState.Executed, (await court.CaseAsync()).State);
        Assert.Equal(TokenAmount.ParseTokens("500"), await court.BondedAsync(court.Node.PeerId));
        Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(panel[0]));
        Assert.Equal(TokenAmount.ParseTokens("100"), await court.BondedAsync(court.Validators[0].PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task FinalizeCase_PanelSilentPastWindow_ConvictionStands()
    {
        await using var court = await ConvictedAsync();
        Assert.True((await court.AppealAsync(court.Node)).IsApplied);
        var panel = (await court.CaseAsync()).Panel;
        Assert.True((await court.VoteAsync(court.IndexOf(panel[0]), VerdictOutcome.Valid)).IsApplied);

        Assert.Equal(EconomicStatus.NotAllowed, (await court.Ledger.FinalizeCaseAsync(OperationId.New(), court.ReceiptId)).Status);
        await court.Harness.AdvanceTimeAsync(TimeSpan.FromHours(1));
        Assert.True((await court.Ledger.FinalizeCaseAsync(OperationId.New(), court.ReceiptId)).IsApplied);

        Assert.Equal(TokenAmount.ParseTokens("500"), await court.BondedAsync(court.Node.PeerId));
        Assert.Equal(TokenAmount.ParseTokens("100"), await court.BondedAsync(panel[0])); // an undecided panel's dissent is not overturned
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task Appeal_ByValidatorWhoseValidVerdictLost_Accepted()
    {
        await using var court = await ConvictedAsync();
        Assert.True((await court.VoteAsync(2, VerdictOutcome.Valid)).IsApplied);

        var result = await court.AppealAsync(court.Validators[2]);

        Assert.True(result.IsApplied, result.Detail);
        Assert.DoesNotContain(court.Validators[2].PeerId, (await court.CaseAsync()).Panel);
    }

    [Fact]
    public async Task Appeal_AfterWindow_RefusedAndSlashExecutes()
    {
        await using var court = await ConvictedAsync();
        await court.Harness.AdvanceTimeAsync(TimeSpan.FromHours(1));

        Assert.Equal(EconomicStatus.NotAllowed, (await court.AppealAsync(court.Node)).Status);
        Assert.True((await court.Ledger.FinalizeCaseAsync(OperationId.New(), court.ReceiptId)).IsApplied);
        Assert.Equal(TokenAmount.ParseTokens("500"), await court.BondedAsync(court.Node.PeerId));
    }

    [Fact]
    public async Task Appeal_BadInput_RefusedBeforeAnythingActs()
    {
        await using var court = await ConvictedAsync();
        using var stranger = Core.Identity.Ed25519KeyPair.Generate();

        // A forged appeal: signed by a stranger in the node's name.
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.AppealAsync(stranger, court.Node.PeerId)).Status);

        // A party the conviction does not slash (a stranger, the accuser) may not appeal.
        Assert.Equal(EconomicStatus.NotAllowed, (await court.AppealAsync(stranger)).Status);
        Assert.Equal(EconomicStatus.NotAllowed, (await court.AppealAsync(court.Validators[0])).Status);

        // An appeal on a receipt with no case.
        var other = Testing.Economics.EvidenceFactory.Receipt(court.Node, court.Request, TokenAmount.ParseTokens("0.5"), variant: 9);
        var orphan = Core.Protocol.SignedMessage.Create(court.Node, new Appeal { ReceiptId = new ReceiptId(other.Hash), AppellantId = court.Node.PeerId, IssuedAt = Testing.Economics.EvidenceFactory.Stamp });
        Assert.Equal(EconomicStatus.NotAllowed, (await court.Ledger.AppealAsync(OperationId.New(), orphan)).Status);
        Assert.Equal(DisputeState.Convicted, (await court.CaseAsync()).State);

        // One appeal per case; a replayed appeal is refused.
        Assert.True((await court.AppealAsync(court.Node)).IsApplied);
        Assert.Equal(EconomicStatus.NotAllowed, (await court.AppealAsync(court.Node)).Status);

        // While appealed, only the panel's verdicts count, once each.
        var panel = (await court.CaseAsync()).Panel;
        int outsider = Enumerable.Range(2, 4).First(i => !panel.Contains(court.Validators[i].PeerId));
        Assert.Equal(EconomicStatus.NotAllowed, (await court.VoteAsync(outsider, VerdictOutcome.Valid)).Status);
        int member = court.IndexOf(panel[0]);
        Assert.True((await court.VoteAsync(member, VerdictOutcome.Valid)).IsApplied);
        Assert.Equal(EconomicStatus.NotAllowed, (await court.VoteAsync(member, VerdictOutcome.Fraud, Testing.Economics.EvidenceFactory.Stamp.AddSeconds(1))).Status);
        Assert.Equal(Court.NodeStake, await court.BondedAsync(court.Node.PeerId));
        await court.AssertConservedAsync();
    }
}
