using PoIP.Core.Money;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>The inference-node role (<c>/poip/infer/1.0.0</c>). Validated at start.</summary>
public sealed class PoIPNodeOptions
{
    /// <summary>Price asked per output token. Default 0.001 token.</summary>
    public TokenAmount PricePerToken { get; set; } = TokenAmount.ParseTokens("0.001");

    /// <summary>Largest prompt accepted, in bytes (1 to 1 MiB). Default 64 KiB.</summary>
    public int MaxPromptBytes { get; set; } = 64 * 1024;

    /// <summary>Largest <c>MaxTokens</c> accepted (1 to 4096); also capped by the engine. Default 256.</summary>
    public int MaxOutputTokens { get; set; } = 256;

    /// <summary>Requests expiring further ahead than this are refused. Default 10 min.</summary>
    public TimeSpan MaxExpiryHorizon { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Settle each receipt's escrow (with the receipt and the client's signed request) once the
    /// ledger's dispute window has passed, whatever the ledger back end. Default true.
    /// </summary>
    public bool ClaimPayments { get; set; } = true;

    /// <summary>
    /// Where pending payment claims are stored so that a restart resumes them (one file per request).
    /// Default: <c>&lt;key file name&gt;.payment-claims</c> beside <see cref="PoIPOptions.KeyFile"/>; when
    /// neither is set (an identity passed as <see cref="PoIPOptions.Key"/>), claims are kept in memory only.
    /// </summary>
    public string? PaymentClaimsDirectory { get; set; }

    /// <summary>
    /// Keep the transcripts of served requests (the newest <see cref="MaxTranscripts"/>) and give them to
    /// registered validators on <c>/poip/transcript/1.0.0</c>, so receipts drawn from the DHT can be re-executed.
    /// Default true; a node that does not is recorded as withholding by the validators that ask.
    /// </summary>
    public bool ServeTranscripts { get; set; } = true;

    /// <summary>Most transcripts kept (1 to 1,000,000; at most 256 MiB in all). Default 4,096.</summary>
    public int MaxTranscripts { get; set; } = 4_096;

    /// <summary>
    /// Where served transcripts are kept so that a restart still serves them (one file per receipt; they hold the
    /// clients' prompts). Default: <c>&lt;key file name&gt;.transcripts</c> beside <see cref="PoIPOptions.KeyFile"/>;
    /// when neither is set (an identity passed as <see cref="PoIPOptions.Key"/>), they are kept in memory only.
    /// </summary>
    public string? TranscriptsDirectory { get; set; }
}
