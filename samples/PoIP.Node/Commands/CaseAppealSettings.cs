using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class CaseAppealSettings : CaseSettings
{
    [CommandOption("--key <FILE>")]
    [Description("The appellant's identity key: the accused node, or a validator whose valid verdict the conviction would slash.")]
    public string? Key { get; init; }

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : string.IsNullOrWhiteSpace(Key) ? ValidationResult.Error("--key FILE is required (the appellant signs the appeal).")
        : !File.Exists(Key) ? ValidationResult.Error($"key file '{Key}' not found.")
        : ValidationResult.Success();
}
