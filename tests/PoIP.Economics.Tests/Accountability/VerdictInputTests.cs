using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Testing.Economics;

namespace PoIP.Economics.Tests.Accountability;

/// <summary>Rule 5: forged, replayed and mismatched verdicts are refused before anything acts on them.</summary>
public sealed class VerdictInputTests
{
    private static readonly AccountabilityRules Rules = new(3, TimeSpan.FromHours(1), 3);

    [Fact]
    public async Task SubmitVerdict_Forged_Refused()
    {
        await using var court = await Court.OpenAsync(Rules, 3);
        var forged = Court.Verdict(court.Validators[0], court.Receipt, VerdictOutcome.Fraud, validatorId: court.Validators[1].PeerId);

        var result = await court.Ledger.SubmitVerdictAsync(OperationId.New(), forged, court.Request, court.Receipt);

        Assert.Equal(EconomicStatus.InvalidEvidence, result.Status);
        Assert.Null(await court.Ledger.GetCaseAsync(court.ReceiptId));
    }

    [Fact]
    public async Task SubmitVerdict_Replayed_RefusedAndCountedOnce()
    {
        await using var court = await Court.OpenAsync(Rules, 3);
        var verdict = Court.Verdict(court.Validators[0], court.Receipt, VerdictOutcome.Fraud);
        Assert.True((await court.Ledger.SubmitVerdictAsync(OperationId.New(), verdict, court.Request, court.Receipt)).IsApplied);

        Assert.Equal(EconomicStatus.EvidenceAlreadyUsed, (await court.Ledger.SubmitVerdictAsync(OperationId.New(), verdict, court.Request, court.Receipt)).Status);

        // A second, different verdict by the same validator does not count twice either (quorum needs distinct identities).
        var again = Court.Verdict(court.Validators[0], court.Receipt, VerdictOutcome.Fraud, EvidenceFactory.Stamp.AddSeconds(5));
        Assert.Equal(EconomicStatus.NotAllowed, (await court.Ledger.SubmitVerdictAsync(OperationId.New(), again, court.Request, court.Receipt)).Status);
        Assert.Single((await court.CaseAsync()).FraudVerdicts);
    }

    [Fact]
    public async Task SubmitVerdict_Mismatched_Refused()
    {
        await using var court = await Court.OpenAsync(Rules, 3);
        var v = court.Validators[0];
        var otherReceipt = EvidenceFactory.Receipt(court.Node, court.Request, TokenAmount.ParseTokens("0.5"), variant: 3);
        using var otherClient = Ed25519KeyPair.Generate();
        var otherRequest = EvidenceFactory.Request(otherClient, 7, TokenAmount.ParseTokens("1"));
        using var otherNode = Ed25519KeyPair.Generate();
        var foreignReceipt = EvidenceFactory.Receipt(otherNode, court.Request, TokenAmount.ParseTokens("0.5"));

        // The verdict judges another receipt; the receipt answers another request; the verdict names another node.
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.SubmitVerdictAsync(OperationId.New(), Court.Verdict(v, otherReceipt, VerdictOutcome.Fraud), court.Request, court.Receipt)).Status);
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.SubmitVerdictAsync(OperationId.New(), Court.Verdict(v, court.Receipt, VerdictOutcome.Fraud), otherRequest, court.Receipt)).Status);
        var wrongNode = SignedMessage.Create(v, Court.Verdict(v, court.Receipt, VerdictOutcome.Fraud).Message with { NodeId = otherNode.PeerId });
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.SubmitVerdictAsync(OperationId.New(), wrongNode, court.Request, court.Receipt)).Status);
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.SubmitVerdictAsync(OperationId.New(), Court.Verdict(v, court.Receipt, VerdictOutcome.Fraud), court.Request, foreignReceipt)).Status);
        Assert.Null(await court.Ledger.GetCaseAsync(court.ReceiptId));
    }

    [Fact]
    public async Task SubmitVerdict_UnregisteredInconclusiveOrSelf_Refused()
    {
        await using var court = await Court.OpenAsync(Rules, 3);
        using var unstaked = Ed25519KeyPair.Generate();

        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.SubmitVerdictAsync(OperationId.New(), Court.Verdict(unstaked, court.Receipt, VerdictOutcome.Fraud), court.Request, court.Receipt)).Status);
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.VoteAsync(0, VerdictOutcome.Inconclusive)).Status);
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.SubmitVerdictAsync(OperationId.New(), Court.Verdict(court.Node, court.Receipt, VerdictOutcome.Valid), court.Request, court.Receipt)).Status);

        // A valid verdict cannot open a case.
        Assert.Equal(EconomicStatus.NotAllowed, (await court.VoteAsync(0, VerdictOutcome.Valid)).Status);
        Assert.Null(await court.Ledger.GetCaseAsync(court.ReceiptId));
    }

    [Fact]
    public async Task SlashAsync_TamperedVerdictInsideEvidence_Refused()
    {
        await using var court = await Court.OpenAsync(Rules, 3);
        var v = court.Validators[0];
        byte[] tampered = Court.Verdict(v, court.Receipt, VerdictOutcome.Fraud).Envelope.Encoded.ToArray();
        tampered[^1] ^= 1;
        var evidence = SignedMessage.Create(v, new Evidence { Kind = EvidenceKind.FraudVerdict, AccusedId = court.Node.PeerId, First = tampered, RequestEnvelope = court.Request.Envelope.Encoded, ReceiptEnvelope = court.Receipt.Envelope.Encoded });

        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Harness.Embedded.SlashAsync(OperationId.New(), evidence, v.PeerId)).Status);
        Assert.Null(await court.Ledger.GetCaseAsync(court.ReceiptId));
    }

    [Fact]
    public async Task SubmitVerdict_AfterCaseClosed_Refused()
    {
        await using var court = await Court.OpenAsync(new AccountabilityRules(1, TimeSpan.Zero, 3), 2);
        Assert.True((await court.VoteAsync(0, VerdictOutcome.Fraud)).IsApplied);

        Assert.Equal(EconomicStatus.NotAllowed, (await court.VoteAsync(1, VerdictOutcome.Valid)).Status);
    }
}
