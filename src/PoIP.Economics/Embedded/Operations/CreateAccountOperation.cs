using PoIP.Core.Economics;
using PoIP.Core.Identity;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Opens an empty account.</summary>
internal sealed class CreateAccountOperation(PeerId account) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.CreateAccount;

    public static CreateAccountOperation Read(ArgsReader reader) => new(reader.Peer());

    public override void Write(ArgsWriter writer) => writer.Peer(account);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        if (account.IsEmpty)
        {
            return Refuse(EconomicStatus.UnknownAccount, "empty peer id.");
        }

        if (ledger.Balance(account) is not null)
        {
            return Refuse(EconomicStatus.NotAllowed, "the account already exists.");
        }

        ledger.SetBalance(account, default);
        return EconomicResult.Applied;
    }
}
