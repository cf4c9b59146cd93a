namespace PoIP.Core.Economics;

/// <summary>Where a fraud case stands.</summary>
public enum DisputeState
{
    /// <summary>Verdicts are being gathered; no side has reached the quorum.</summary>
    Open = 1,

    /// <summary>The quorum found fraud; the slash waits for the appeal window.</summary>
    Convicted = 2,

    /// <summary>An appeal is being judged by a freshly drawn panel; nothing has moved.</summary>
    Appealed = 3,

    /// <summary>The node was slashed and the losing validators with it.</summary>
    Executed = 4,

    /// <summary>The quorum (or the appeal panel) found the receipt valid: the node keeps its stake; the validators that accused it were slashed.</summary>
    Cancelled = 5,
}
