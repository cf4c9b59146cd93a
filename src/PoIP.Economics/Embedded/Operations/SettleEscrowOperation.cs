using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>After the dispute window: the node gets the price minus the protocol fee, the fund gets the fee, the client gets the rest of the cap.</summary>
internal sealed class SettleEscrowOperation(RequestId request, TokenAmount price) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.SettleEscrow;

    public static SettleEscrowOperation Read(ArgsReader reader) => new(reader.Request(), reader.Amount());

    public override void Write(ArgsWriter writer) => writer.Request(request).Amount(price);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        var escrow = ledger.Escrow(request);
        if (escrow is not { State: EscrowState.Open })
        {
            return Refuse(EconomicStatus.UnknownEscrow, escrow is null ? "no escrow for this request." : $"the escrow is {escrow.State}.");
        }

        if (price > escrow.PriceCap)
        {
            return Refuse(EconomicStatus.InvalidAmount, "the price exceeds the cap.");
        }

        long windowEnd = checked(escrow.OpenedAt.ToUnixTimeMilliseconds() + ledger.ParameterMs(EconomicParameter.DisputeWindowSeconds));
        if (ledger.NowMs < windowEnd)
        {
            return Refuse(EconomicStatus.NotAllowed, "the dispute window is still open.");
        }

        if (ledger.FraudProven(request, escrow.Node))
        {
            return Refuse(EconomicStatus.NotAllowed, "fraud was proven for this request; it can only be refunded.");
        }

        var fee = price.MultiplyFraction(ledger.ParameterU64(EconomicParameter.ProtocolFeeBps), 10_000);
        ledger.Credit(escrow.Node, price - fee);
        ledger.AddTotal(LedgerTransaction.Fund, fee);
        ledger.Credit(escrow.Client, escrow.PriceCap - price);
        ledger.CloseEscrow(request, EscrowState.Settled, price);
        return EconomicResult.Applied;
    }
}
