using PoIP.Core.Economics;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Creates the ledger: initial parameters and settings, zero totals. Always the journal's first entry.</summary>
internal sealed class GenesisOperation(IReadOnlyDictionary<EconomicParameter, UInt128> parameters, bool requireRegisteredValidator) : LedgerOperation
{
    public const string RequireRegisteredValidatorSetting = "require_registered_validator";

    public static OperationId Id { get; } = OperationId.Derive("poip-genesis", []);

    public override OperationKind Kind => OperationKind.Genesis;

    public static GenesisOperation Read(ArgsReader reader)
    {
        bool require = reader.U32() != 0;
        uint count = reader.U32();
        var values = new Dictionary<EconomicParameter, UInt128>();
        for (uint i = 0; i < count && i < 64; i++)
        {
            values[(EconomicParameter)reader.U32()] = reader.U128();
        }

        return new GenesisOperation(values, require);
    }

    public override void Write(ArgsWriter writer)
    {
        writer.U32(requireRegisteredValidator ? 1u : 0u).U32((uint)parameters.Count);
        foreach (var (parameter, value) in parameters.OrderBy(p => p.Key))
        {
            writer.U32((uint)parameter).U128(value);
        }
    }

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        string? problem = ParameterRules.Check(parameters);
        if (problem is not null)
        {
            return Refuse(EconomicStatus.InvalidAmount, problem);
        }

        foreach (var (parameter, value) in parameters)
        {
            ledger.SetParameter(parameter, value);
        }

        ledger.SetSetting(RequireRegisteredValidatorSetting, requireRegisteredValidator ? 1 : 0);
        ledger.SetTotal(LedgerTransaction.Supply, default);
        ledger.SetTotal(LedgerTransaction.Fund, default);
        ledger.SetTotal(LedgerTransaction.Burned, default);
        return EconomicResult.Applied;
    }
}
