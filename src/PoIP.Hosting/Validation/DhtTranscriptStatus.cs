namespace PoIP.Hosting.Validation;

/// <summary>What became of a receipt drawn from the DHT once its transcript was sought.</summary>
public enum DhtTranscriptStatus
{
    /// <summary>A transcript that passed every check was fetched and the receipt went through the audit path.</summary>
    Audited,

    /// <summary>
    /// No party gave a transcript that passed the checks within the window: recorded against the node's reputation.
    /// Not slashable: nothing the node signed proves it was asked and refused (the validator's word alone would do).
    /// </summary>
    Withheld,
}
