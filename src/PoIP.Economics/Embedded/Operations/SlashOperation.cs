using PoIP.Core.Economics;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Slashing;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>
/// Verifies evidence, slashes bonded stake first and then unbonding tranches (newest first),
/// pays the challenger and the fund their shares, burns the rest, marks the evidence used, and on
/// proven fraud refunds the request's open escrow.
/// </summary>
internal sealed class SlashOperation(ReadOnlyMemory<byte> evidenceEnvelope, PeerId challenger) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.Slash;

    public static SlashOperation Read(ArgsReader reader) => new(reader.Bytes(), reader.Peer());

    public override void Write(ArgsWriter writer) => writer.Bytes(evidenceEnvelope.Span).Peer(challenger);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        SignedMessage<Evidence> evidence;
        try
        {
            evidence = SignedMessage.Open<Evidence>(evidenceEnvelope);
        }
        catch (PoIPException e)
        {
            return Refuse(EconomicStatus.InvalidEvidence, "the evidence envelope does not verify: " + e.Message);
        }

        if (evidence.Signer != challenger)
        {
            return Refuse(EconomicStatus.InvalidEvidence, "the challenger must be the evidence's signer.");
        }

        bool requireRegistered = ledger.Setting(GenesisOperation.RequireRegisteredValidatorSetting) != 0;
        var check = EvidenceVerifier.Check(evidence, ledger.IsValidator, requireRegistered);
        if (check.Evidence is not { } proven)
        {
            return Refuse(EconomicStatus.InvalidEvidence, check.Problem);
        }

        if (proven.Accused == challenger)
        {
            return Refuse(EconomicStatus.NotAllowed, "a node cannot challenge itself.");
        }

        if (ledger.EvidenceUsed(proven.Key))
        {
            return Refuse(EconomicStatus.EvidenceAlreadyUsed, "this offence was already slashed.");
        }

        if (ledger.Balance(challenger) is null)
        {
            return Refuse(EconomicStatus.UnknownAccount, "unknown challenger account.");
        }

        if (proven.Kind == EvidenceKind.FraudVerdict && DisputeCases.Rules(ledger).Deferred)
        {
            // Accountability on: this verdict is one vote in the receipt's case, not a slash by itself.
            var fraud = evidence.Message;
            return DisputeCases.AddVerdict(ledger, fraud.First, fraud.RequestEnvelope, fraud.ReceiptEnvelope, challenger);
        }

        var split = Penalty.Apply(ledger, proven.Accused, challenger);
        ledger.UseEvidence(proven.Key, (int)proven.Kind, proven.Accused, proven.Request, split.Total);

        if (proven.Kind == EvidenceKind.FraudVerdict && ledger.Escrow(proven.Request) is { State: EscrowState.Open } escrow && escrow.Node == proven.Accused)
        {
            RefundEscrowOperation.Refund(ledger, escrow);
        }

        return new EconomicResult(EconomicStatus.Applied, $"slashed {split.Total} (challenger {split.Challenger}, fund {split.PublicFund}, burned {split.Burned}).");
    }
}
