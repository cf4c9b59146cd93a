using PoIP.Core.Economics;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Creates the ledger: initial parameters and settings, zero totals. Always the journal's first entry.</summary>
internal sealed class GenesisOperation(IReadOnlyDictionary<EconomicParameter, UInt128> parameters, bool requireRegisteredValidator, AccountabilityRules? accountability = null) : LedgerOperation
{
    public const string RequireRegisteredValidatorSetting = "require_registered_validator";
    public const string SlashQuorumSetting = "slash_quorum";
    public const string AppealWindowSetting = "appeal_window_ms";
    public const string AppealPanelSetting = "appeal_panel";

    private readonly AccountabilityRules _accountability = accountability ?? AccountabilityRules.Default;

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

        // Ledgers created before validator accountability have no rules here: the defaults apply.
        AccountabilityRules? rules = null;
        if (reader.HasMore)
        {
            int quorum = (int)reader.U32();
            long windowMs = (long)reader.U128();
            int panel = (int)reader.U32();
            rules = new AccountabilityRules(quorum, TimeSpan.FromMilliseconds(windowMs), panel);
        }

        return new GenesisOperation(values, require, rules);
    }

    public override void Write(ArgsWriter writer)
    {
        writer.U32(requireRegisteredValidator ? 1u : 0u).U32((uint)parameters.Count);
        foreach (var (parameter, value) in parameters.OrderBy(p => p.Key))
        {
            writer.U32((uint)parameter).U128(value);
        }

        if (_accountability != AccountabilityRules.Default)
        {
            writer.U32((uint)_accountability.SlashQuorum).U128((UInt128)(long)_accountability.AppealWindow.TotalMilliseconds).U32((uint)_accountability.AppealPanelSize);
        }
    }

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        string? problem = ParameterRules.Check(parameters);
        if (problem is not null)
        {
            return Refuse(EconomicStatus.InvalidAmount, problem);
        }

        if (_accountability.Validate() is { } invalid)
        {
            return Refuse(EconomicStatus.InvalidAmount, invalid);
        }

        foreach (var (parameter, value) in parameters)
        {
            ledger.SetParameter(parameter, value);
        }

        ledger.SetSetting(RequireRegisteredValidatorSetting, requireRegisteredValidator ? 1 : 0);
        if (_accountability != AccountabilityRules.Default)
        {
            ledger.SetSetting(SlashQuorumSetting, _accountability.SlashQuorum);
            ledger.SetSetting(AppealWindowSetting, (long)_accountability.AppealWindow.TotalMilliseconds);
            ledger.SetSetting(AppealPanelSetting, _accountability.AppealPanelSize);
        }
        ledger.SetTotal(LedgerTransaction.Supply, default);
        ledger.SetTotal(LedgerTransaction.Fund, default);
        ledger.SetTotal(LedgerTransaction.Burned, default);
        return EconomicResult.Applied;
    }
}
