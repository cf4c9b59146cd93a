using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>
/// Returns the whole cap to the client. Allowed when fraud was proven for the request against its
/// node, when another escrow of its group was settled (the request was paid through another
/// attempt), or when the escrow was never settled within twice the dispute window (never served).
/// </summary>
internal sealed class RefundEscrowOperation(RequestId request) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.RefundEscrow;

    public static RefundEscrowOperation Read(ArgsReader reader) => new(reader.Request());

    public override void Write(ArgsWriter writer) => writer.Request(request);

    /// <summary>Refunds an open escrow (shared with the slash, which refunds on proven fraud).</summary>
    public static void Refund(LedgerTransaction ledger, EscrowInfo escrow)
    {
        ledger.Credit(escrow.Client, escrow.PriceCap);
        ledger.CloseEscrow(escrow.Request, EscrowState.Refunded, TokenAmount.Zero);
    }

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        var escrow = ledger.Escrow(request);
        if (escrow is not { State: EscrowState.Open })
        {
            return Refuse(EconomicStatus.UnknownEscrow, escrow is null ? "no escrow for this request." : $"the escrow is {escrow.State}.");
        }

        long abandonedAt = checked(escrow.OpenedAt.ToUnixTimeMilliseconds() + (2 * ledger.ParameterMs(EconomicParameter.DisputeWindowSeconds)));
        if (!ledger.FraudProven(request, escrow.Node) && ledger.NowMs < abandonedAt && !ledger.EscrowGroupPaid(escrow.Group ?? request))
        {
            return Refuse(EconomicStatus.NotAllowed, "no fraud proven, no other escrow of its group paid, and the escrow is not yet abandoned (twice the dispute window).");
        }

        Refund(ledger, escrow);
        return EconomicResult.Applied;
    }
}
