using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Moves bonded stake into an unbonding tranche released after the unbonding period.</summary>
internal sealed class RequestUnbondOperation(PeerId node, TokenAmount amount) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.RequestUnbond;

    public static RequestUnbondOperation Read(ArgsReader reader) => new(reader.Peer(), reader.Amount());

    public override void Write(ArgsWriter writer) => writer.Peer(node).Amount(amount);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        if (amount.IsZero)
        {
            return Refuse(EconomicStatus.InvalidAmount, "zero amount.");
        }

        if (ledger.Balance(node) is null)
        {
            return Refuse(EconomicStatus.UnknownAccount, "unknown account.");
        }

        if (!TokenAmount.TrySubtract(ledger.Bonded(node), amount, out var remaining))
        {
            return Refuse(EconomicStatus.InsufficientStake, "bonded stake below the amount.");
        }

        ledger.SetBonded(node, remaining);
        ledger.AddUnbonding(node, amount, checked(ledger.NowMs + ledger.ParameterMs(EconomicParameter.UnbondingPeriodSeconds)));
        return EconomicResult.Applied;
    }
}
