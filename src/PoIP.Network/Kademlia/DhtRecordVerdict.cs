namespace PoIP.Network.Kademlia;

/// <summary>Whether a record passed its namespace's validation, and why not.</summary>
/// <param name="IsValid">True when the record may be stored, returned and forwarded.</param>
/// <param name="Reason">Why it was refused (empty when valid).</param>
public readonly record struct DhtRecordVerdict(bool IsValid, string Reason)
{
    /// <summary>Valid.</summary>
    public static DhtRecordVerdict Valid => new(true, "");

    /// <summary>Refused, with the reason.</summary>
    public static DhtRecordVerdict Invalid(string reason) => new(false, reason);
}
