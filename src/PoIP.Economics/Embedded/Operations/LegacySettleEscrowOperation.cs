using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>
/// A settlement journaled before settlements were bound to receipts (kind 11): decoded only so that
/// <see cref="EmbeddedStakeManager.VerifyJournalAsync"/> can replay old ledgers. Nothing creates new
/// ones: <see cref="EmbeddedStakeManager.SettleEscrowAsync"/> journals <see cref="SettleEscrowOperation"/>.
/// </summary>
internal sealed class LegacySettleEscrowOperation(RequestId request, TokenAmount price) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.SettleEscrow;

    public static LegacySettleEscrowOperation Read(ArgsReader reader) => new(reader.Request(), reader.Amount());

    public override void Write(ArgsWriter writer) => writer.Request(request).Amount(price);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        var escrow = ledger.Escrow(request);
        if (escrow is not { State: EscrowState.Open })
        {
            return Refuse(EconomicStatus.UnknownEscrow, "no open escrow for this request.");
        }

        return price > escrow.PriceCap ? Refuse(EconomicStatus.InvalidAmount, "the price exceeds the cap.") : SettleEscrowOperation.Pay(ledger, escrow, price);
    }
}
