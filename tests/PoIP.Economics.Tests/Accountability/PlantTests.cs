using PoIP.Core.Economics;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Testing.Economics;

namespace PoIP.Economics.Tests.Accountability;

/// <summary>Rule 4: planted receipts catch validators that answer "valid" without auditing.</summary>
public sealed class PlantTests
{
    private static readonly byte[] Salt = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    // Validator 0 plants; the court's node and client stand for the planter's own sybil identities.
    private static async Task<Court> PlantedAsync(AccountabilityRules rules)
    {
        var court = await Court.OpenAsync(rules, 4);
        var commitment = PlantCommitment.Compute(court.Validators[0].PeerId, court.ReceiptId, Salt);
        Assert.True((await court.Ledger.CommitPlantAsync(OperationId.New(), court.Validators[0].PeerId, commitment)).IsApplied);
        return court;
    }

    [Fact]
    public async Task RevealPlant_LazyValidVerdict_ValidatorSlashed()
    {
        await using var court = await PlantedAsync(new AccountabilityRules(3, TimeSpan.Zero, 3));
        var lazy = Court.Verdict(court.Validators[1], court.Receipt, VerdictOutcome.Valid);
        var diligent = Court.Verdict(court.Validators[2], court.Receipt, VerdictOutcome.Fraud);

        var result = await court.Ledger.RevealPlantAsync(OperationId.New(), court.Validators[0].PeerId, Salt, court.Request, court.Receipt, [lazy, diligent]);

        Assert.True(result.IsApplied, result.Detail);
        var decided = await court.CaseAsync();
        Assert.True(decided.Planted);
        Assert.Equal(DisputeState.Executed, decided.State); // convicted without a quorum of 3: the right verdict is known
        Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(court.Validators[1].PeerId));
        Assert.False(await court.Harness.Embedded.IsValidatorAsync(court.Validators[1].PeerId));
        Assert.Equal(TokenAmount.ParseTokens("100"), await court.BondedAsync(court.Validators[2].PeerId));

        // The planter receives the lazy validator's challenger share (and the planted node's, its own money).
        Assert.Equal(TokenAmount.ParseTokens("110"), await court.Harness.Embedded.GetBalanceAsync(court.Validators[0].PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task RevealPlant_WithAppealWindow_LazyValidatorMayAppealAndLoses()
    {
        await using var court = await PlantedAsync(new AccountabilityRules(2, TimeSpan.FromHours(1), 1));
        var lazy = Court.Verdict(court.Validators[1], court.Receipt, VerdictOutcome.Valid);
        Assert.True((await court.Ledger.RevealPlantAsync(OperationId.New(), court.Validators[0].PeerId, Salt, court.Request, court.Receipt, [lazy])).IsApplied);
        Assert.Equal(DisputeState.Convicted, (await court.CaseAsync()).State);

        Assert.True((await court.AppealAsync(court.Validators[1])).IsApplied);
        var panel = (await court.CaseAsync()).Panel;
        Assert.Single(panel);
        Assert.DoesNotContain(court.Validators[0].PeerId, panel);
        Assert.True((await court.VoteAsync(court.IndexOf(panel[0]), VerdictOutcome.Fraud)).IsApplied);

        Assert.Equal(DisputeState.Executed, (await court.CaseAsync()).State);
        Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(court.Validators[1].PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task RevealPlant_FalsePlantOverturnedOnAppeal_PlanterSlashed()
    {
        await using var court = await PlantedAsync(new AccountabilityRules(1, TimeSpan.FromHours(1), 1));
        var honest = Court.Verdict(court.Validators[1], court.Receipt, VerdictOutcome.Valid);
        Assert.True((await court.Ledger.RevealPlantAsync(OperationId.New(), court.Validators[0].PeerId, Salt, court.Request, court.Receipt, [honest])).IsApplied);

        Assert.True((await court.AppealAsync(court.Validators[1])).IsApplied);
        var panel = (await court.CaseAsync()).Panel;
        Assert.True((await court.VoteAsync(court.IndexOf(panel[0]), VerdictOutcome.Valid)).IsApplied);

        Assert.Equal(DisputeState.Cancelled, (await court.CaseAsync()).State);
        Assert.Equal(TokenAmount.ParseTokens("50"), await court.BondedAsync(court.Validators[0].PeerId));
        Assert.Equal(TokenAmount.ParseTokens("100"), await court.BondedAsync(court.Validators[1].PeerId));
        Assert.Equal(Court.NodeStake, await court.BondedAsync(court.Node.PeerId));
        await court.AssertConservedAsync();
    }

    [Fact]
    public async Task RevealPlant_BadInput_RefusedAndNothingMoves()
    {
        await using var court = await PlantedAsync(new AccountabilityRules(2, TimeSpan.Zero, 3));
        var planter = court.Validators[0].PeerId;
        var lazy = Court.Verdict(court.Validators[1], court.Receipt, VerdictOutcome.Valid);
        var before = await court.Harness.Embedded.GetTotalsAsync();

        // Wrong salt, or another planter claiming the commitment.
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.RevealPlantAsync(OperationId.New(), planter, new byte[32], court.Request, court.Receipt, [lazy])).Status);
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.RevealPlantAsync(OperationId.New(), court.Validators[2].PeerId, Salt, court.Request, court.Receipt, [lazy])).Status);

        // A verdict signed before the commitment: the plant was chosen after seeing it.
        var early = Court.Verdict(court.Validators[1], court.Receipt, VerdictOutcome.Valid, EvidenceFactory.Stamp.AddMinutes(-1));
        Assert.Equal(EconomicStatus.NotAllowed, (await court.Ledger.RevealPlantAsync(OperationId.New(), planter, Salt, court.Request, court.Receipt, [early])).Status);

        // A verdict on another receipt, and a forged one (signed by validator 2 in validator 1's name).
        var otherReceipt = EvidenceFactory.Receipt(court.Node, court.Request, TokenAmount.ParseTokens("0.5"), variant: 4);
        var mismatched = Court.Verdict(court.Validators[1], otherReceipt, VerdictOutcome.Valid);
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.RevealPlantAsync(OperationId.New(), planter, Salt, court.Request, court.Receipt, [mismatched])).Status);
        var forged = Court.Verdict(court.Validators[2], court.Receipt, VerdictOutcome.Valid, validatorId: court.Validators[1].PeerId);
        Assert.Equal(EconomicStatus.InvalidEvidence, (await court.Ledger.RevealPlantAsync(OperationId.New(), planter, Salt, court.Request, court.Receipt, [forged])).Status);

        // Only a registered validator may commit plants.
        using var stranger = Core.Identity.Ed25519KeyPair.Generate();
        Assert.Equal(EconomicStatus.NotAllowed, (await court.Ledger.CommitPlantAsync(OperationId.New(), stranger.PeerId, PlantCommitment.Compute(stranger.PeerId, court.ReceiptId, Salt))).Status);

        Assert.Null(await court.Ledger.GetCaseAsync(court.ReceiptId));
        Assert.Equal(before, await court.Harness.Embedded.GetTotalsAsync());

        // The right reveal works once.
        Assert.True((await court.Ledger.RevealPlantAsync(OperationId.New(), planter, Salt, court.Request, court.Receipt, [lazy])).IsApplied);
        Assert.Equal(EconomicStatus.EvidenceAlreadyUsed, (await court.Ledger.RevealPlantAsync(OperationId.New(), planter, Salt, court.Request, court.Receipt, [])).Status);
        await court.AssertConservedAsync();
    }
}
