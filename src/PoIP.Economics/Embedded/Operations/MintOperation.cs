using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Deposit into the embedded ledger (genesis allocation or faucet): creates money, raises the supply, opens the account if needed.</summary>
internal sealed class MintOperation(PeerId account, TokenAmount amount) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.Mint;

    public static MintOperation Read(ArgsReader reader) => new(reader.Peer(), reader.Amount());

    public override void Write(ArgsWriter writer) => writer.Peer(account).Amount(amount);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        if (account.IsEmpty)
        {
            return Refuse(EconomicStatus.UnknownAccount, "empty peer id.");
        }

        if (amount.IsZero)
        {
            return Refuse(EconomicStatus.InvalidAmount, "zero amount.");
        }

        // Checked additions: an overflowing supply throws and the engine answers InvalidAmount.
        ledger.AddTotal(LedgerTransaction.Supply, amount);
        ledger.SetBalance(account, (ledger.Balance(account) ?? TokenAmount.Zero) + amount);
        return EconomicResult.Applied;
    }
}
