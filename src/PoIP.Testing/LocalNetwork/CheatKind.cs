namespace PoIP.Testing.LocalNetwork;

/// <summary>How the cheating node of a local network cheats.</summary>
public enum CheatKind
{
    /// <summary>Nobody cheats.</summary>
    None,

    /// <summary>The node returns output with some tokens replaced (e.g. to inject text or save work).</summary>
    AlterOutput,

    /// <summary>The node samples with another seed than the client's (cheaper batching, biased sampling).</summary>
    OtherSeed,

    /// <summary>The node stops early and claims it hit the end of the sequence (saves decode work).</summary>
    Truncate,
}
