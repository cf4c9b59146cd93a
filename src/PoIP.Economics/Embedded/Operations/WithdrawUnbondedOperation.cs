using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Returns every released unbonding tranche to the free balance.</summary>
internal sealed class WithdrawUnbondedOperation(PeerId node) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.WithdrawUnbonded;

    public static WithdrawUnbondedOperation Read(ArgsReader reader) => new(reader.Peer());

    public override void Write(ArgsWriter writer) => writer.Peer(node);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        var balance = ledger.Balance(node);
        if (balance is null)
        {
            return Refuse(EconomicStatus.UnknownAccount, "unknown account.");
        }

        var released = TokenAmount.Zero;
        foreach (var entry in ledger.Unbonding(node))
        {
            if (entry.ReleaseMs <= ledger.NowMs)
            {
                released += entry.Amount;
                ledger.SetUnbonding(entry.Id, TokenAmount.Zero);
            }
        }

        if (released.IsZero)
        {
            return Refuse(EconomicStatus.NotYetWithdrawable, "no unbonding tranche has been released yet.");
        }

        ledger.SetBalance(node, balance.Value + released);
        return EconomicResult.Applied;
    }
}
