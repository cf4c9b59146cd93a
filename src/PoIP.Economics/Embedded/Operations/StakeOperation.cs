using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Moves free balance into bonded stake.</summary>
internal sealed class StakeOperation(PeerId node, TokenAmount amount) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.Stake;

    public static StakeOperation Read(ArgsReader reader) => new(reader.Peer(), reader.Amount());

    public override void Write(ArgsWriter writer) => writer.Peer(node).Amount(amount);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        if (amount.IsZero)
        {
            return Refuse(EconomicStatus.InvalidAmount, "zero amount.");
        }

        var balance = ledger.Balance(node);
        if (balance is null)
        {
            return Refuse(EconomicStatus.UnknownAccount, "unknown account.");
        }

        if (!TokenAmount.TrySubtract(balance.Value, amount, out var remaining))
        {
            return Refuse(EconomicStatus.InsufficientFunds, "balance below the amount.");
        }

        ledger.SetBalance(node, remaining);
        ledger.SetBonded(node, ledger.Bonded(node) + amount);
        return EconomicResult.Applied;
    }
}
