namespace PoIP.Core.Ledger;

/// <summary>What happened to a record put into the ledger.</summary>
public enum LedgerPutStatus
{
    /// <summary>Stored (new).</summary>
    Stored,

    /// <summary>An identical record was already stored.</summary>
    Duplicate,

    /// <summary>The signer already stored a different record for the same request: equivocation evidence is attached.</summary>
    Conflict,

    /// <summary>Refused (invalid record, signer not a party to the request).</summary>
    Rejected,
}
