using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Takes free balance out of the system (the off-ramp of a deposit): lowers the supply.</summary>
internal sealed class WithdrawOperation(PeerId account, TokenAmount amount) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.Withdraw;

    public static WithdrawOperation Read(ArgsReader reader) => new(reader.Peer(), reader.Amount());

    public override void Write(ArgsWriter writer) => writer.Peer(account).Amount(amount);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        if (amount.IsZero)
        {
            return Refuse(EconomicStatus.InvalidAmount, "zero amount.");
        }

        var balance = ledger.Balance(account);
        if (balance is null)
        {
            return Refuse(EconomicStatus.UnknownAccount, "unknown account.");
        }

        if (!TokenAmount.TrySubtract(balance.Value, amount, out var remaining))
        {
            return Refuse(EconomicStatus.InsufficientFunds, "balance below the amount.");
        }

        ledger.SetBalance(account, remaining);
        ledger.SetTotal(LedgerTransaction.Supply, ledger.Total(LedgerTransaction.Supply) - amount);
        return EconomicResult.Applied;
    }
}
