namespace PoIP.Core.Economics;

/// <summary>Expected outcomes of economic operations. Only <see cref="Applied"/> changed state.</summary>
public enum EconomicStatus
{
    /// <summary>The operation was applied.</summary>
    Applied,

    /// <summary>An operation with this id was already applied; nothing changed.</summary>
    DuplicateOperation,

    /// <summary>The account does not exist.</summary>
    UnknownAccount,

    /// <summary>Not enough free balance.</summary>
    InsufficientFunds,

    /// <summary>Not enough stake.</summary>
    InsufficientStake,

    /// <summary>The unbonding period has not elapsed.</summary>
    NotYetWithdrawable,

    /// <summary>The evidence did not verify or does not concern the accused.</summary>
    InvalidEvidence,

    /// <summary>The evidence was already used for a slash.</summary>
    EvidenceAlreadyUsed,

    /// <summary>No such escrow, or it is already settled or refunded.</summary>
    UnknownEscrow,

    /// <summary>The amount is zero, too large, or the parameter out of range.</summary>
    InvalidAmount,

    /// <summary>The operation is not allowed now (e.g. dispute window still open).</summary>
    NotAllowed,

    /// <summary>The receipt or request offered for a settlement does not verify or does not match the escrow (signer, node, request id).</summary>
    InvalidReceipt,

    /// <summary>
    /// Another escrow of the same group (a hedge or retry of the same logical request) was already
    /// settled: a request is paid at most once, and this escrow can only be refunded.
    /// </summary>
    AlreadyPaid,
}
