namespace PoIP.Hosting.Client;

/// <summary>Where the audit of a delivered answer stands.</summary>
public enum ClientAuditStatus
{
    /// <summary>No validator is configured: the answer is not handed to one.</summary>
    NotRequested = 0,

    /// <summary>
    /// The validator could not be reached, did not answer within <see cref="PoIPClientOptions.AuditTimeout"/>,
    /// or sent no verdict that verifies: the answer stands, the transaction is unaudited (it can be handed
    /// to a validator later).
    /// </summary>
    Pending = 1,

    /// <summary>The validator's verifiable lottery did not select the receipt.</summary>
    NotSelected = 2,

    /// <summary>Re-executed and matched.</summary>
    Valid = 3,

    /// <summary>Proven fraudulent (the validator slashed the node and refunded the escrow).</summary>
    Fraud = 4,

    /// <summary>Re-executed without a decision either way.</summary>
    Inconclusive = 5,
}
