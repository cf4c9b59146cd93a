using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Economics.Slashing;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Executes a conviction whose appeal window (or panel time) has passed (validator accountability).</summary>
internal sealed class FinalizeCaseOperation(ReceiptId receipt) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.FinalizeCase;

    public static FinalizeCaseOperation Read(ArgsReader reader) =>
        Sha256Digest.TryRead(reader.Bytes(), out var digest) ? new(new ReceiptId(digest)) : throw new InvalidDataException("Journal receipt id is not 32 bytes.");

    public override void Write(ArgsWriter writer) => writer.Bytes(receipt.Digest.ToArray());

    public override EconomicResult Apply(LedgerTransaction ledger) => DisputeCases.Finalize(ledger, receipt);
}
