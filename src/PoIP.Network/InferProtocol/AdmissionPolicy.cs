using PoIP.Core.Hashing;
using PoIP.Core.Money;

namespace PoIP.Network.InferProtocol;

/// <summary>What a node accepts. Validated by <see cref="Validate"/> at start.</summary>
public sealed class AdmissionPolicy
{
    /// <summary>Models the node serves.</summary>
    public IReadOnlySet<ModelId> Models { get; init; } = new HashSet<ModelId>();

    /// <summary>Price per output token the node asks; the cap must cover <c>MaxTokens × this</c>.</summary>
    public TokenAmount PricePerToken { get; init; } = TokenAmount.Zero;

    /// <summary>Largest prompt accepted, in bytes.</summary>
    public int MaxPromptBytes { get; init; } = 64 * 1024;

    /// <summary>Largest <c>MaxTokens</c> accepted.</summary>
    public int MaxOutputTokens { get; init; } = 1024;

    /// <summary>Requests expiring further ahead than this are refused (bounds the nonce memory).</summary>
    public TimeSpan MaxExpiryHorizon { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Tolerated difference between the client's clock and this node's (default 5 min, at most 1 h, the transaction
    /// records' <c>MaxClockSkew</c>): a request is refused as expired only when its expiry is this far in the past, as too
    /// far ahead only beyond <see cref="MaxExpiryHorizon"/> plus this, and its nonce is remembered until its expiry plus
    /// this, so a replay inside the tolerance is still refused.
    /// </summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Most (client, nonce) pairs remembered; beyond it new requests are refused rather than risking a replay.</summary>
    public int MaxRememberedNonces { get; init; } = 100_000;

    /// <summary>Returns the first problem, or null.</summary>
    public string? Validate() =>
        Models.Count == 0 ? "at least one model must be served."
        : MaxPromptBytes <= 0 ? "MaxPromptBytes must be positive."
        : MaxOutputTokens <= 0 ? "MaxOutputTokens must be positive."
        : MaxExpiryHorizon <= TimeSpan.Zero ? "MaxExpiryHorizon must be positive."
        : MaxClockSkew < TimeSpan.Zero || MaxClockSkew > TimeSpan.FromHours(1) ? "MaxClockSkew must be 0 to 1 hour."
        : MaxRememberedNonces <= 0 ? "MaxRememberedNonces must be positive."
        : null;

    /// <summary>The price of <paramref name="outputTokens"/> tokens.</summary>
    public TokenAmount PriceFor(int outputTokens) => PricePerToken.Multiply((uint)outputTokens);
}
