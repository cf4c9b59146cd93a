using PoIP.Core.Ledger;

namespace PoIP.Network.Transactions;

/// <summary>Limits of <see cref="PoIPRecordNamespace"/>.</summary>
public sealed class PoIPRecordNamespaceOptions
{
    /// <summary>Lifetimes and clock skew of transaction records (default <see cref="TransactionRecordTiming.Default"/>).</summary>
    public TransactionRecordTiming Timing { get; init; } = TransactionRecordTiming.Default;

    /// <summary>Longest validity a capability record may claim (default 48 h, the DHT's record expiry).</summary>
    public TimeSpan MaxCapabilityLifetime { get; init; } = TimeSpan.FromHours(48);
}
