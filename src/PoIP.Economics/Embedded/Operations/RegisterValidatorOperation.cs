using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Registers a validator whose fraud verdicts may slash: it must have the minimum stake bonded (so it has something to lose).</summary>
internal sealed class RegisterValidatorOperation(PeerId validator) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.RegisterValidator;

    public static RegisterValidatorOperation Read(ArgsReader reader) => new(reader.Peer());

    public override void Write(ArgsWriter writer) => writer.Peer(validator);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        if (ledger.Balance(validator) is null)
        {
            return Refuse(EconomicStatus.UnknownAccount, "unknown account.");
        }

        if (ledger.IsValidator(validator))
        {
            return Refuse(EconomicStatus.NotAllowed, "already registered.");
        }

        if (ledger.Bonded(validator) < new TokenAmount(ledger.Parameter(EconomicParameter.MinimumStake)))
        {
            return Refuse(EconomicStatus.InsufficientStake, "a validator needs the minimum stake bonded.");
        }

        ledger.AddValidator(validator);
        return EconomicResult.Applied;
    }
}
