using PoIP.Core.Economics;
using PoIP.Economics.Slashing;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Appeals a convicted case and draws its panel (validator accountability).</summary>
internal sealed class AppealOperation(ReadOnlyMemory<byte> appealEnvelope) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.Appeal;

    public static AppealOperation Read(ArgsReader reader) => new(reader.Bytes());

    public override void Write(ArgsWriter writer) => writer.Bytes(appealEnvelope.Span);

    public override EconomicResult Apply(LedgerTransaction ledger) => DisputeCases.Appeal(ledger, appealEnvelope);
}
