using System.ComponentModel;
using PoIP.Hosting.Client;
using PoIP.Testing.LocalNetwork;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class DemoSettings : CommandSettings
{
    [CommandOption("--nodes <N>")]
    [Description("Inference nodes (2-16; the last one cheats). Default 3.")]
    public int Nodes { get; init; } = 3;

    [CommandOption("--requests <N>")]
    [Description("Requests the client sends. Default: the fewest that make missing the cheater less likely than 1e-6 (30 with 3 nodes, round robin, p = 0.75).")]
    public int? Requests { get; init; }

    [CommandOption("--cheat <KIND>")]
    [Description("How the cheating node cheats: alter-output (default), other-seed, truncate, none.")]
    public string Cheat { get; init; } = "alter-output";

    [CommandOption("--audit-p <P>")]
    [Description("Probability that the validator audits a receipt. Default 0.75, or with --requests the smallest that makes missing the cheater less likely than 1e-6.")]
    public double? AuditProbability { get; init; }

    [CommandOption("--max-tokens <N>")]
    [Description("Tokens per answer. Default 48.")]
    public int MaxTokens { get; init; } = 48;

    [CommandOption("--model <FILE>")]
    [Description("GGUF model. Default: POIP_MODEL, else ../shared/models/stories260K.gguf, else a synthesized model.")]
    public string? Model { get; init; }

    [CommandOption("--seed <S>")]
    [Description("First sampling seed. Default 1.")]
    public ulong Seed { get; init; } = 1;

    [CommandOption("--selection <POLICY>")]
    [Description("How the client routes: round-robin (default: the cheater's share of traffic is known, so the miss probability is bounded) or competition (reputation, latency, stake; every node tried once first).")]
    public string Selection { get; init; } = "round-robin";

    [CommandOption("--separate-processes")]
    [Description("Run each role as its own OS process (this executable: node run, validator run, client ask) over one shared SQLite ledger.")]
    public bool SeparateProcesses { get; init; }

    [CommandOption("--serve")]
    [Description("After the demo, keep the network up behind the OpenAI-compatible HTTP API (docs/gateway.md) until stopped (Ctrl+C).")]
    public bool Serve { get; init; }

    [CommandOption("--http <HOST:PORT>")]
    [Description("With --serve: the API's address (an IP literal and a port; 0 picks a free port). Default 127.0.0.1:8080.")]
    public string? Http { get; init; }

    [CommandOption("--hosts")]
    [Description("Run each role as its own process in its own network namespace (its own address, key file and folder), linked by the host lab's wire. Needs root on Linux.")]
    public bool Hosts { get; init; }

    [CommandOption("--link-delay-ms <MS>")]
    [Description("With --hosts: one-way delay of every host's link in milliseconds (0-1000; host to host crosses two links). Default 0.")]
    public int LinkDelayMs { get; init; }

    [CommandOption("--shared-ledger")]
    [Description("With --hosts: the older wiring (roles handed each other's addresses, one SQLite ledger file shared by every host) instead of the DHT, the chain and the gateway.")]
    public bool SharedLedger { get; init; }

    [CommandOption("--chain <dev|URL>")]
    [Description("Settle on PoIPLedger on a chain instead of the embedded ledger: 'dev' starts a fresh Anvil; a URL (a dev chain from 'poip chain dev') needs --deployment.")]
    public string? Chain { get; init; }

    [CommandOption("--deployment <FILE>")]
    [Description("With --chain URL: the deployment file.")]
    public string? Deployment { get; init; }

    [CommandOption("--json")]
    [Description("Print the final summary as one JSON line.")]
    public bool Json { get; init; }

    public CheatKind CheatKind => Cheat switch
    {
        "alter-output" => CheatKind.AlterOutput,
        "other-seed" => CheatKind.OtherSeed,
        "truncate" => CheatKind.Truncate,
        "none" => CheatKind.None,
        _ => (CheatKind)(-1),
    };

    public NodeSelectionPolicy SelectionPolicy => Selection switch
    {
        "competition" => NodeSelectionPolicy.Competition,
        "round-robin" => NodeSelectionPolicy.RoundRobin,
        _ => (NodeSelectionPolicy)(-1),
    };

    /// <summary>The request count and audit probability this run uses (see <see cref="DemoPlan"/>).</summary>
    public DemoPlan Plan => DemoPlan.Choose(Nodes, SelectionPolicy, Requests, AuditProbability);

    public override ValidationResult Validate() =>
        Hosts && SeparateProcesses ? ValidationResult.Error("--hosts and --separate-processes are two modes: pick one.")
        : LinkDelayMs is < 0 or > 1000 ? ValidationResult.Error("--link-delay-ms must be 0 to 1000.")
        : SharedLedger && !Hosts ? ValidationResult.Error("--shared-ledger needs --hosts.")
        : LinkDelayMs > 0 && !Hosts ? ValidationResult.Error("--link-delay-ms needs --hosts.")
        : !Enum.IsDefined(CheatKind) ? ValidationResult.Error($"--cheat must be alter-output, other-seed, truncate or none, not '{Cheat}'.")
        : !Enum.IsDefined(SelectionPolicy) ? ValidationResult.Error($"--selection must be competition or round-robin, not '{Selection}'.")
        : Nodes is < 2 or > 16 ? ValidationResult.Error("--nodes must be 2 to 16.")
        : Requests is < 1 or > 10_000 ? ValidationResult.Error("--requests must be 1 to 10000.")
        : AuditProbability is < 0 or > 1 || (AuditProbability is { } p && double.IsNaN(p)) ? ValidationResult.Error("--audit-p must be in [0, 1].")
        : MaxTokens is < 1 or > 512 ? ValidationResult.Error("--max-tokens must be 1 to 512.")
        : Http is not null && !Serve ? ValidationResult.Error("--http needs --serve.")
        : Chain is not null && (SeparateProcesses || Hosts) ? ValidationResult.Error("--chain runs the in-process network; it cannot be combined with --separate-processes or --hosts yet.")
        : Serve && (SeparateProcesses || Hosts) ? ValidationResult.Error("--serve runs the in-process network; it cannot be combined with --separate-processes or --hosts.")
        : Http is not null && GatewayServer.ParseHttp(Http) is null ? ValidationResult.Error($"--http must be an IP address and a port, e.g. 127.0.0.1:8080 (got '{Http}').")
        : ValidationResult.Success();
}
