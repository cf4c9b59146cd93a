using System.ComponentModel;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class IdentitySettings : CommandSettings
{
    [CommandOption("--key <FILE>")]
    [Description("Identity key file (created with mode 0600 when absent). Default: ~/.poip/node.key")]
    public string? KeyFile { get; init; }

    [CommandOption("--json")]
    [Description("Print one JSON object instead of a table.")]
    public bool Json { get; init; }

    public string ResolveKeyFile() => KeyFile ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".poip", "node.key");
}
