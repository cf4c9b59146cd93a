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
    [Description("Requests the client sends. Default 12.")]
    public int Requests { get; init; } = 12;

    [CommandOption("--cheat <KIND>")]
    [Description("How the cheating node cheats: alter-output (default), other-seed, truncate, none.")]
    public string Cheat { get; init; } = "alter-output";

    [CommandOption("--audit-p <P>")]
    [Description("Probability that the validator audits a receipt. Default 0.5.")]
    public double AuditProbability { get; init; } = 0.5;

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
    [Description("How the client routes: competition (default: reputation, latency, stake; every node tried once first) or round-robin.")]
    public string Selection { get; init; } = "competition";

    [CommandOption("--separate-processes")]
    [Description("Run each role as its own OS process (this executable: node run, validator run, client ask) over one shared SQLite ledger.")]
    public bool SeparateProcesses { get; init; }

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

    public override ValidationResult Validate() =>
        !Enum.IsDefined(CheatKind) ? ValidationResult.Error($"--cheat must be alter-output, other-seed, truncate or none, not '{Cheat}'.")
        : !Enum.IsDefined(SelectionPolicy) ? ValidationResult.Error($"--selection must be competition or round-robin, not '{Selection}'.")
        : Nodes is < 2 or > 16 ? ValidationResult.Error("--nodes must be 2 to 16.")
        : Requests is < 1 or > 10_000 ? ValidationResult.Error("--requests must be 1 to 10000.")
        : AuditProbability is < 0 or > 1 || double.IsNaN(AuditProbability) ? ValidationResult.Error("--audit-p must be in [0, 1].")
        : MaxTokens is < 1 or > 512 ? ValidationResult.Error("--max-tokens must be 1 to 512.")
        : ValidationResult.Success();
}
