using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Moves free balance between two existing accounts.</summary>
internal sealed class TransferOperation(PeerId from, PeerId to, TokenAmount amount) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.Transfer;

    public static TransferOperation Read(ArgsReader reader) => new(reader.Peer(), reader.Peer(), reader.Amount());

    public override void Write(ArgsWriter writer) => writer.Peer(from).Peer(to).Amount(amount);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        if (amount.IsZero)
        {
            return Refuse(EconomicStatus.InvalidAmount, "zero amount.");
        }

        var source = ledger.Balance(from);
        var target = ledger.Balance(to);
        if (source is null || target is null)
        {
            return Refuse(EconomicStatus.UnknownAccount, source is null ? "unknown sender." : "unknown recipient.");
        }

        if (!TokenAmount.TrySubtract(source.Value, amount, out var remaining))
        {
            return Refuse(EconomicStatus.InsufficientFunds, "balance below the amount.");
        }

        ledger.SetBalance(from, remaining);
        ledger.Credit(to, amount);
        return EconomicResult.Applied;
    }
}
