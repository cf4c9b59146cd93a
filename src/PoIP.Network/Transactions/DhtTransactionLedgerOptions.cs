using PoIP.Core.Ledger;

namespace PoIP.Network.Transactions;

/// <summary>Options of <see cref="DhtTransactionLedger"/>.</summary>
public sealed class DhtTransactionLedgerOptions
{
    /// <summary>
    /// Peers that must confirm a put (a PUT_VALUE echo) for it to count as stored; fewer gives
    /// <see cref="LedgerPutStatus.Unconfirmed"/>. Default 1; 0 accepts a put stored only locally.
    /// </summary>
    public int Quorum { get; init; } = 1;

    /// <summary>Lifetimes and clock skew (must match the namespace's, default <see cref="TransactionRecordTiming.Default"/>).</summary>
    public TransactionRecordTiming Timing { get; init; } = TransactionRecordTiming.Default;

    /// <summary>Clock for expiry checks.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
