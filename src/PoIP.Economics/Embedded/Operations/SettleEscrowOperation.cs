using PoIP.Core.Economics;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Protocol;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>
/// After the dispute window, against the node's signed receipt for the client's signed request:
/// the node gets the receipt's price minus the protocol fee, the fund gets the fee, the client gets
/// the rest of the cap. The envelopes are journaled and re-verified on every replay.
/// </summary>
internal sealed class SettleEscrowOperation(ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> receiptEnvelope) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.SettleEscrowWithReceipt;

    public static SettleEscrowOperation Read(ArgsReader reader) => new(reader.Bytes(), reader.Bytes());

    public override void Write(ArgsWriter writer) => writer.Bytes(requestEnvelope.Span).Bytes(receiptEnvelope.Span);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        SignedMessage<InferenceRequest> request;
        SignedMessage<InferenceReceipt> receipt;
        try
        {
            request = SignedMessage.Open<InferenceRequest>(requestEnvelope);
            receipt = SignedMessage.Open<InferenceReceipt>(receiptEnvelope);
        }
        catch (PoIPException e)
        {
            return Refuse(EconomicStatus.InvalidReceipt, "the request or receipt envelope does not verify: " + e.Message);
        }

        var requestId = new RequestId(request.Hash);
        var escrow = ledger.Escrow(requestId);
        if (escrow is not { State: EscrowState.Open })
        {
            return Refuse(EconomicStatus.UnknownEscrow, escrow is null ? "no escrow for this request." : $"the escrow is {escrow.State}.");
        }

        string? mismatch =
            request.Signer != escrow.Client || request.Message.ClientId != escrow.Client ? "the request is not signed by the escrow's client."
            : receipt.Signer != escrow.Node || receipt.Message.NodeId != escrow.Node ? "the receipt is not signed by the escrowed node."
            : receipt.Message.RequestId != requestId ? "the receipt answers another request."
            : null;
        if (mismatch is not null)
        {
            return Refuse(EconomicStatus.InvalidReceipt, mismatch);
        }

        var price = receipt.Message.Price;
        if (price > request.Message.PriceCap || price > escrow.PriceCap)
        {
            return Refuse(EconomicStatus.InvalidAmount, "the receipt's price exceeds the signed or escrowed cap.");
        }

        return Pay(ledger, escrow, price);
    }

    /// <summary>The window and fraud checks, then the payout (shared with the journal-replay-only legacy settlement).</summary>
    public static EconomicResult Pay(LedgerTransaction ledger, EscrowInfo escrow, Core.Money.TokenAmount price)
    {
        long windowEnd = checked(escrow.OpenedAt.ToUnixTimeMilliseconds() + ledger.ParameterMs(EconomicParameter.DisputeWindowSeconds));
        if (ledger.NowMs < windowEnd)
        {
            return Refuse(EconomicStatus.NotAllowed, "the dispute window is still open.");
        }

        if (ledger.FraudProven(escrow.Request, escrow.Node))
        {
            return Refuse(EconomicStatus.NotAllowed, "fraud was proven for this request; it can only be refunded.");
        }

        if (Slashing.DisputeTables.Pending(ledger, escrow.Request, escrow.Node))
        {
            return Refuse(EconomicStatus.NotAllowed, "a fraud case on this request is still undecided or open to appeal.");
        }

        if (ledger.EscrowGroupPaid(escrow.Group ?? escrow.Request))
        {
            return Refuse(EconomicStatus.AlreadyPaid, "another attempt of this request (its escrow group) was already paid; this escrow can only be refunded.");
        }

        var fee = price.MultiplyFraction(ledger.ParameterU64(EconomicParameter.ProtocolFeeBps), 10_000);
        ledger.Credit(escrow.Node, price - fee);
        ledger.AddTotal(LedgerTransaction.Fund, fee);
        ledger.Credit(escrow.Client, escrow.PriceCap - price);
        ledger.CloseEscrow(escrow.Request, EscrowState.Settled, price);
        return EconomicResult.Applied;
    }
}
