using System.ComponentModel;
using PoIP.Core.Hashing;
using PoIP.Economics.Embedded;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

/// <summary>What every <c>poip case</c> command takes: the receipt id of the case and the embedded ledger.</summary>
internal class CaseSettings : CommandSettings
{
    [CommandArgument(0, "<RECEIPT>")]
    [Description("The case: its receipt id (SHA-256 of the signed receipt envelope, 64 hex digits).")]
    public string Receipt { get; init; } = "";

    [CommandOption("--ledger <FILE>")]
    [Description("The embedded SQLite ledger that holds the case (must exist).")]
    public string? Ledger { get; init; }

    [CommandOption("--json")]
    [Description("One JSON line instead of text.")]
    public bool Json { get; init; }

    public ReceiptId ReceiptId => new(Sha256Digest.ParseHex(Receipt));

    public override ValidationResult Validate() =>
        !Sha256Digest.TryParseHex(Receipt, out _) ? ValidationResult.Error($"'{Receipt}' is not a receipt id (64 hex digits).")
        : string.IsNullOrWhiteSpace(Ledger) ? ValidationResult.Error("--ledger FILE is required.")
        : !File.Exists(Ledger) ? ValidationResult.Error($"ledger '{Ledger}' not found.")
        : ValidationResult.Success();

    public EmbeddedStakeManager OpenLedger() => EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = Path.GetFullPath(Ledger!) });
}
