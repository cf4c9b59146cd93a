using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands.Soak;

internal sealed class SoakSettings : CommandSettings
{
    /// <summary>No full window may fall below this fraction of the median window's throughput.</summary>
    public const double SteadyFraction = 0.5;

    [CommandOption("--clients <N>")]
    [Description("Concurrent streaming clients through the gateway's OpenAI API (1-1024). Default 64.")]
    public int Clients { get; init; } = 64;

    [CommandOption("--duration <TIME>")]
    [Description("How long the clients send: seconds, or with a unit (90s, 10m, 1h; 5 s to 24 h). Default 10m.")]
    public string Duration { get; init; } = "10m";

    [CommandOption("--nodes <N>")]
    [Description("Inference node processes (1-16). Default 3.")]
    public int Nodes { get; init; } = 3;

    [CommandOption("--max-tokens <N>")]
    [Description("max_tokens of every request (1-512). Default 16.")]
    public int MaxTokens { get; init; } = 16;

    [CommandOption("--window <SECONDS>")]
    [Description("Throughput window in seconds (1-3600; a run shorter than one window is one window). Default 60.")]
    public int Window { get; init; } = 60;

    [CommandOption("--audit-p <P>")]
    [Description("Probability that the validator audits an answer (0-1). Default 0.05.")]
    public double AuditProbability { get; init; } = 0.05;

    [CommandOption("--wiring <WIRING>")]
    [Description("How the roles meet and settle: shared-ledger (handed addresses, one SQLite ledger file) or dht-chain (a DHT bootstrap peer and a dev chain: nodes and the validator found in the DHT, every escrow and payment on PoIPLedger). Default shared-ledger.")]
    public string Wiring { get; init; } = SharedLedger;

    [CommandOption("--block-time <SECONDS>")]
    [Description("With --wiring dht-chain: the dev chain mines a block every SECONDS (0 = a block per transaction; else 0.05-60). Default 0.25.")]
    public double BlockTime { get; init; } = 0.25;

    [CommandOption("--model <FILE>")]
    [Description("GGUF model. Default: POIP_MODEL, else ../shared/models/stories260K.gguf.")]
    public string? Model { get; init; }

    [CommandOption("--data <DIR>")]
    [Description("Folder for the ledger and each role's folder (kept). Default: a new temporary folder, removed at the end.")]
    public string? Data { get; init; }

    [CommandOption("--no-hedge")]
    [Description("Run the gateway without hedging (gateway run --no-hedge). With hedging (the default), the attempts of a request share an escrow group and the ledger pays one of them: the soak counts a request paid through a discarded attempt apart (paid_through_other_attempt).")]
    public bool NoHedge { get; init; }

    [CommandOption("--json")]
    [Description("Print one JSON line (snake_case) instead of tables.")]
    public bool Json { get; init; }

    /// <summary><see cref="Wiring"/>: one SQLite ledger, addresses handed to the gateway.</summary>
    public const string SharedLedger = "shared-ledger";

    /// <summary><see cref="Wiring"/>: discovery through the DHT, settlement on a dev chain.</summary>
    public const string DhtChain = "dht-chain";

    /// <summary>Whether the run is wired through the DHT and a dev chain.</summary>
    public bool OnChain => Wiring == DhtChain;

    /// <summary>The parsed <see cref="Duration"/> (valid after <see cref="Validate"/>).</summary>
    public TimeSpan DurationValue => ParseDuration(Duration) ?? TimeSpan.Zero;

    public override ValidationResult Validate() =>
        Clients is < 1 or > 1024 ? ValidationResult.Error($"--clients must be 1 to 1024 (got {Clients}).")
        : ParseDuration(Duration) is not { } d || d < TimeSpan.FromSeconds(5) || d > TimeSpan.FromHours(24) ? ValidationResult.Error($"--duration must be 5s to 24h, e.g. 90s or 10m (got '{Duration}').")
        : Nodes is < 1 or > 16 ? ValidationResult.Error($"--nodes must be 1 to 16 (got {Nodes}).")
        : MaxTokens is < 1 or > 512 ? ValidationResult.Error($"--max-tokens must be 1 to 512 (got {MaxTokens}).")
        : Window is < 1 or > 3600 ? ValidationResult.Error($"--window must be 1 to 3600 seconds (got {Window}).")
        : AuditProbability is < 0 or > 1 || double.IsNaN(AuditProbability) ? ValidationResult.Error($"--audit-p must be in [0, 1] (got {AuditProbability.ToString(CultureInfo.InvariantCulture)}).")
        : Wiring is not (SharedLedger or DhtChain) ? ValidationResult.Error($"--wiring must be {SharedLedger} or {DhtChain} (got '{Wiring}').")
        : BlockTime != 0 && (double.IsNaN(BlockTime) || BlockTime < 0.05 || BlockTime > 60) ? ValidationResult.Error($"--block-time must be 0 (a block per transaction) or 0.05 to 60 seconds (got {BlockTime.ToString(CultureInfo.InvariantCulture)}).")
        : Model is { } m && !File.Exists(m) ? ValidationResult.Error($"--model: file '{m}' not found.")
        : ValidationResult.Success();

    /// <summary>Parses <c>90</c>, <c>90s</c>, <c>10m</c>, <c>1h</c>; null when malformed.</summary>
    internal static TimeSpan? ParseDuration(string text)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            return null;
        }

        (string number, double unit) = char.ToLowerInvariant(text[^1]) switch
        {
            's' => (text[..^1], 1.0),
            'm' => (text[..^1], 60.0),
            'h' => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        return double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) && value > 0 && value * unit <= 10 * 86_400
            ? TimeSpan.FromSeconds(value * unit)
            : null;
    }
}
