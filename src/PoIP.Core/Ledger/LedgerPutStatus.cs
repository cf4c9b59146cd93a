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

    /// <summary>
    /// Valid, but fewer peers than the ledger's quorum confirmed storing it (a replicated ledger such as the DHT):
    /// put it again later.
    /// </summary>
    Unconfirmed,
}
