using PoIP.Core.Economics;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

/// <summary>
/// <c>poip case finalize</c>: executes a conviction whose appeal window has passed (or whose panel ran out of time). Anyone
/// may ask; the ledger checks the deadline. Exit 0 when it executed, 1 when the ledger refuses (the reason on stderr).
/// </summary>
internal sealed class CaseFinalizeCommand : AsyncCommand<CaseSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CaseSettings settings, CancellationToken cancellationToken)
    {
        using var ledger = settings.OpenLedger();
        var result = await ledger.FinalizeCaseAsync(OperationId.New(), settings.ReceiptId, cancellationToken);
        var found = await ledger.GetCaseAsync(settings.ReceiptId, cancellationToken);
        return CaseOutput.Report(settings.Json, result, found, "finalize");
    }
}
