using PoIP.Core.Economics;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>
/// One journaled state change. <see cref="Apply"/> must depend only on the ledger state, its
/// arguments and the transaction's time, so that replaying the journal rebuilds the same tables.
/// Refusals return a non-applied result (the transaction is rolled back).
/// </summary>
internal abstract class LedgerOperation
{
    public abstract OperationKind Kind { get; }

    public abstract void Write(ArgsWriter writer);

    public abstract EconomicResult Apply(LedgerTransaction ledger);

    protected static EconomicResult Refuse(EconomicStatus status, string detail) => new(status, detail);
}
