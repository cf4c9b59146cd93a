using PoIP.Core.Money;
using PoIP.Hosting.Client;

namespace PoIP.Gateway;

/// <summary>What the gateway serves and its limits (validated at start).</summary>
public sealed class PoIPGatewayOptions
{
    /// <summary>The models offered (at least one).</summary>
    public IList<GatewayModel> Models { get; } = [];

    /// <summary>Bearer API keys accepted on <c>/v1/*</c>; empty (default) accepts every caller.</summary>
    public ISet<string> ApiKeys { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The most a client pays per generated token; a request's escrowed cap is this times its <c>max_tokens</c>. Default 0.001.</summary>
    public TokenAmount MaxPricePerToken { get; set; } = TokenAmount.ParseTokens("0.001");

    /// <summary><c>max_tokens</c> when the request gives none. Default 48.</summary>
    public int DefaultMaxTokens { get; set; } = 48;

    /// <summary>Largest <c>max_tokens</c> accepted (1 to 65,536). Default 512.</summary>
    public int MaxTokensLimit { get; set; } = 512;

    /// <summary>Largest request body in bytes. Default 1 MiB.</summary>
    public int MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>Most chat messages in one request. Default 256.</summary>
    public int MaxMessages { get; set; } = 256;

    /// <summary>Requests generating at once (1 to 4,096). Default 64.</summary>
    public int MaxConcurrentRequests { get; set; } = 64;

    /// <summary>Requests waiting for a slot; more get 429 with <c>Retry-After</c>. Default 256.</summary>
    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>How long a request may wait for a slot before a 503. Default 30 s.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Seconds sent in <c>Retry-After</c> with a 429 or 503. Default 1.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Receipts kept for <c>GET /v1/receipts/{id}</c> (oldest dropped first). Default 10,000.</summary>
    public int ReceiptCapacity { get; set; } = 10_000;

    /// <summary>
    /// How often the gateway diagnoses every node it knows for a model with known-answer challenges
    /// (stories260K today; <see cref="PoIPClient.DiagnoseAsync"/>): ordinary paid requests whose tokens are
    /// checked exactly, plus the speed they show. A node that fails is routed around; results appear in
    /// <c>/v1/nodes</c>. Null (default): never; at least 10 seconds.
    /// </summary>
    public TimeSpan? DiagnosticsInterval { get; set; }

    /// <summary>
    /// How often the gateway takes back the price caps its attempts left in escrow without delivering an answer (a
    /// hedge that lost, an attempt that failed before a retry; <see cref="PoIPClient.ReclaimEscrowsAsync"/>): at once
    /// when the request was paid through another attempt, else once abandoned (twice the dispute window). Default 1
    /// minute; null: never (the escrows stay refundable by anyone); at least 1 second.
    /// </summary>
    public TimeSpan? ReclaimInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Returns the first problem, or null.</summary>
    internal string? Validate() =>
        Models.Count == 0 ? "gateway: at least one model is required."
        : Models.Any(m => string.IsNullOrWhiteSpace(m.Name)) ? "gateway: every model needs a name."
        : Models.Select(m => m.Name).Distinct(StringComparer.Ordinal).Count() != Models.Count ? "gateway: model names must be distinct."
        : ApiKeys.Any(k => k.Length is < 8 or > 256 || k.Any(char.IsWhiteSpace)) ? "gateway: ApiKeys must be 8 to 256 characters without spaces."
        : MaxTokensLimit is < 1 or > 65_536 ? $"gateway: MaxTokensLimit must be in [1, 65536] (got {MaxTokensLimit})."
        : DefaultMaxTokens < 1 || DefaultMaxTokens > MaxTokensLimit ? $"gateway: DefaultMaxTokens must be in [1, MaxTokensLimit] (got {DefaultMaxTokens})."
        : MaxRequestBodyBytes is < 1024 or > 64 << 20 ? $"gateway: MaxRequestBodyBytes must be in [1024, 64 MiB] (got {MaxRequestBodyBytes})."
        : MaxMessages is < 1 or > 10_000 ? $"gateway: MaxMessages must be in [1, 10000] (got {MaxMessages})."
        : MaxConcurrentRequests is < 1 or > 4096 ? $"gateway: MaxConcurrentRequests must be in [1, 4096] (got {MaxConcurrentRequests})."
        : MaxQueuedRequests is < 0 or > 100_000 ? $"gateway: MaxQueuedRequests must be in [0, 100000] (got {MaxQueuedRequests})."
        : QueueTimeout <= TimeSpan.Zero ? "gateway: QueueTimeout must be positive."
        : RetryAfterSeconds is < 1 or > 3600 ? $"gateway: RetryAfterSeconds must be in [1, 3600] (got {RetryAfterSeconds})."
        : ReceiptCapacity is < 1 or > 10_000_000 ? $"gateway: ReceiptCapacity must be in [1, 10000000] (got {ReceiptCapacity})."
        : MaxPricePerToken.IsZero ? "gateway: MaxPricePerToken must be positive."
        : DiagnosticsInterval < TimeSpan.FromSeconds(10) ? "gateway: DiagnosticsInterval must be at least 10 seconds."
        : ReclaimInterval < TimeSpan.FromSeconds(1) ? "gateway: ReclaimInterval must be at least 1 second."
        : null;
}
