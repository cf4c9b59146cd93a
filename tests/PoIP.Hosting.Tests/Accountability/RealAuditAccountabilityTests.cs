using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Verification;

namespace PoIP.Hosting.Tests.Accountability;

/// <summary>
/// Validator accountability end to end: verdicts come from real audits (llama.cpp stories260K
/// re-execution in <see cref="Validation.ValidatorService"/>), the ledger is real SQLite, money is
/// conserved and the journal rebuilds the tables after each scenario.
/// </summary>
public sealed class RealAuditAccountabilityTests
{
    [Fact]
    public async Task Audit_CheatingNode_SlashedOnlyOnceQuorumAgreesAndAppealFails()
    {
        await using var court = await LlamaCourt.OpenAsync(new AccountabilityRules(2, TimeSpan.FromHours(1), 3));
        var first = await court.ValidatorAsync();
        var second = await court.ValidatorAsync();
        var panel = new[] { await court.ValidatorAsync(), await court.ValidatorAsync(), await court.ValidatorAsync() };
        var served = await court.ServeAsync(cheat: true);

        var one = await LlamaCourt.AuditAsync(first.Service, served);
        Assert.Equal(VerdictOutcome.Fraud, one.Verdict!.Message.Outcome);
        Assert.False(one.Slashed);
        Assert.Equal(LlamaCourt.NodeStake, await court.BondedAsync(court.Node.PeerId));
        Assert.Equal(DisputeState.Open, (await court.CaseAsync(served)).State);

        var two = await LlamaCourt.AuditAsync(second.Service, served);
        Assert.Equal(VerdictOutcome.Fraud, two.Verdict!.Message.Outcome);
        Assert.Equal(DisputeState.Convicted, (await court.CaseAsync(served)).State);
        Assert.Equal(LlamaCourt.NodeStake, await court.BondedAsync(court.Node.PeerId));

        // The node appeals; the drawn panel re-executes for real and finds the same fraud.
        var appeal = SignedMessage.Create(court.Node, new Appeal { ReceiptId = new ReceiptId(served.Receipt.Hash), AppellantId = court.Node.PeerId, IssuedAt = court.Clock.GetUtcNow() });
        Assert.True((await court.Ledger.AppealAsync(OperationId.New(), appeal)).IsApplied);
        var drawn = (await court.CaseAsync(served)).Panel;
        Assert.Equal(3, drawn.Count);
        foreach (var member in panel.Where(p => drawn.Contains(p.Key.PeerId)).Take(2))
        {
            await LlamaCourt.AuditAsync(member.Service, served);
        }

        Assert.Equal(DisputeState.Executed, (await court.CaseAsync(served)).State);
        Assert.Equal(TokenAmount.ParseTokens("500"), await court.BondedAsync(court.Node.PeerId));
        Assert.Equal(TokenAmount.ParseTokens("100"), await court.Ledger.GetBalanceAsync(first.Key.PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task Appeal_HonestNodeWronglyConvicted_PanelOfRealAuditsCancelsAndLiarsSlashed()
    {
        await using var court = await LlamaCourt.OpenAsync(new AccountabilityRules(2, TimeSpan.FromHours(1), 3));
        var liars = new[] { await court.ValidatorAsync(), await court.ValidatorAsync() };
        var honest = new[] { await court.ValidatorAsync(), await court.ValidatorAsync(), await court.ValidatorAsync() };
        var served = await court.ServeAsync(cheat: false);

        // Two validators lie: they sign fraud verdicts on an honest receipt.
        foreach (var liar in liars)
        {
            var lie = VerdictSigner.Sign(liar.Key, served.Receipt, VerificationResult.Fraud(FraudReason.ActivationMismatch, 3, "made up"), court.Clock);
            Assert.True((await court.Ledger.SubmitVerdictAsync(OperationId.New(), lie, served.Request, served.Receipt)).IsApplied);
        }

        Assert.Equal(DisputeState.Convicted, (await court.CaseAsync(served)).State);
        var appeal = SignedMessage.Create(court.Node, new Appeal { ReceiptId = new ReceiptId(served.Receipt.Hash), AppellantId = court.Node.PeerId, IssuedAt = court.Clock.GetUtcNow() });
        Assert.True((await court.Ledger.AppealAsync(OperationId.New(), appeal)).IsApplied);
        Assert.All((await court.CaseAsync(served)).Panel, p => Assert.Contains(p, honest.Select(h => h.Key.PeerId)));

        foreach (var member in honest)
        {
            var audit = await LlamaCourt.AuditAsync(member.Service, served);
            Assert.Equal(VerdictOutcome.Valid, audit.Verdict!.Message.Outcome);
        }

        Assert.Equal(DisputeState.Cancelled, (await court.CaseAsync(served)).State);
        Assert.Equal(LlamaCourt.NodeStake, await court.BondedAsync(court.Node.PeerId));
        foreach (var liar in liars)
        {
            Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(liar.Key.PeerId));
        }

        Assert.Equal(TokenAmount.ParseTokens("20"), await court.Ledger.GetBalanceAsync(court.Node.PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task RevealPlant_LazyValidatorAnsweredValid_SlashedWhileDiligentOneIsNot()
    {
        await using var court = await LlamaCourt.OpenAsync(new AccountabilityRules(2, TimeSpan.Zero, 3));
        var planter = await court.ValidatorAsync();
        var lazy = await court.ValidatorAsync(lazy: true);
        var diligent = await court.ValidatorAsync();

        // The planter serves a fraudulent receipt through node and client identities of its own, committing first.
        var sybilNode = court.Key();
        var sybilClient = court.Key();
        await court.StakeAsync(sybilNode.PeerId, LlamaCourt.ValidatorStake);
        var planted = await court.ServeAsync(cheat: true, sybilNode, sybilClient, nonce: 99);
        byte[] salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var commitment = PlantCommitment.Compute(planter.Key.PeerId, new ReceiptId(planted.Receipt.Hash), salt);
        Assert.True((await court.Ledger.CommitPlantAsync(OperationId.New(), planter.Key.PeerId, commitment)).IsApplied);

        // It looks like any other receipt: the lazy validator says valid, the diligent one re-executes and finds fraud.
        court.Clock.Advance(TimeSpan.FromSeconds(1));
        var lazyAudit = await LlamaCourt.AuditAsync(lazy.Service, planted);
        var diligentAudit = await LlamaCourt.AuditAsync(diligent.Service, planted);
        Assert.Equal(VerdictOutcome.Valid, lazyAudit.Verdict!.Message.Outcome);
        Assert.Equal(VerdictOutcome.Fraud, diligentAudit.Verdict!.Message.Outcome);

        var reveal = await court.Ledger.RevealPlantAsync(OperationId.New(), planter.Key.PeerId, salt, planted.Request, planted.Receipt, [lazyAudit.Verdict]);

        Assert.True(reveal.IsApplied, reveal.Detail);
        Assert.Equal(DisputeState.Executed, (await court.CaseAsync(planted)).State);
        Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(lazy.Key.PeerId));
        Assert.False(await court.Ledger.IsValidatorAsync(lazy.Key.PeerId));
        Assert.Equal(LlamaCourt.ValidatorStake, await court.BondedAsync(diligent.Key.PeerId));
        Assert.Equal(LlamaCourt.NodeStake, await court.BondedAsync(court.Node.PeerId));
        await court.AssertConservedAsync();
    }
}
