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
    /// Settle each receipt's escrow at its price once the ledger's dispute window has passed (embedded
    /// ledger only; claims are kept in memory, so a restart forgets the pending ones). Default true.
    /// </summary>
    public bool ClaimPayments { get; set; } = true;
}
