namespace PoIP.Core.Protocol;

/// <summary>Who put a transaction record into the ledger.</summary>
public enum TransactionRole
{
    /// <summary>The client that sent the request.</summary>
    Client = 1,

    /// <summary>The node that served it.</summary>
    Node = 2,

    /// <summary>A validator that audited it.</summary>
    Validator = 3,
}
