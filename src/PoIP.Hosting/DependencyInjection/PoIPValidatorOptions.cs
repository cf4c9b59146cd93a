namespace PoIP.Hosting.DependencyInjection;

/// <summary>The validator role (<c>/poip/audit/1.0.0</c>). Validated at start.</summary>
public sealed class PoIPValidatorOptions
{
    /// <summary>Probability in [0, 1] that a submitted receipt is re-executed. Default 0.1.</summary>
    public double AuditProbability { get; set; } = 0.1;

    /// <summary>Largest prompt accepted in a submission (1 to 1 MiB). Default 64 KiB.</summary>
    public int MaxPromptBytes { get; set; } = 64 * 1024;

    /// <summary>Refuse to start unless the ledger lists this validator as registered (its verdicts could not slash otherwise). Default true.</summary>
    public bool RequireRegistration { get; set; } = true;

    /// <summary>
    /// How long a validator keeps asking for the transcript of a receipt it drew from the DHT (the node, then the
    /// client) before recording the node as withholding it. Default 10 minutes; zero asks once.
    /// </summary>
    public TimeSpan TranscriptWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Pause between rounds of asking for a transcript (positive). Default 30 seconds.</summary>
    public TimeSpan TranscriptRetryInterval { get; set; } = TimeSpan.FromSeconds(30);
}
