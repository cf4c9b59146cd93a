using PoIP.Core.Proofs;

namespace PoIP.Core.Ledger;

/// <summary>The outcome of <see cref="ITransactionLedger.PutAsync"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Equivocation">For <see cref="LedgerPutStatus.Conflict"/>: the evidence (two records signed by one peer).</param>
/// <param name="Detail">Why, when rejected.</param>
public sealed record LedgerPutResult(LedgerPutStatus Status, Evidence? Equivocation = null, string Detail = "")
{
    /// <summary>Stored.</summary>
    public static LedgerPutResult Stored { get; } = new(LedgerPutStatus.Stored);

    /// <summary>Already stored.</summary>
    public static LedgerPutResult Duplicate { get; } = new(LedgerPutStatus.Duplicate);

    /// <summary>For a replicated ledger: how many peers confirmed they store the record (0 for a local ledger).</summary>
    public int Confirmed { get; init; }

    /// <summary>For a replicated ledger: how many peers were asked to store it.</summary>
    public int Asked { get; init; }
}
