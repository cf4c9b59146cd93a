using PoIP.Core.Economics;
using PoIP.Economics.Slashing;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Counts a validator's signed verdict in the receipt's fraud case (validator accountability).</summary>
internal sealed class SubmitVerdictOperation(ReadOnlyMemory<byte> verdictEnvelope, ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> receiptEnvelope) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.SubmitVerdict;

    public static SubmitVerdictOperation Read(ArgsReader reader) => new(reader.Bytes(), reader.Bytes(), reader.Bytes());

    public override void Write(ArgsWriter writer) => writer.Bytes(verdictEnvelope.Span).Bytes(requestEnvelope.Span).Bytes(receiptEnvelope.Span);

    public override EconomicResult Apply(LedgerTransaction ledger) => DisputeCases.AddVerdict(ledger, verdictEnvelope, requestEnvelope, receiptEnvelope, opener: null);
}
