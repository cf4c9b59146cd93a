using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

/// <summary>
/// <c>poip case appeal</c>: signs an appeal with the appellant's key and files it; the ledger checks it (the signer may
/// appeal, the case is convicted, the window is open) and draws the panel. Exit 0 when the appeal is accepted, 1 when the
/// ledger refuses it (the reason on stderr; nothing changed).
/// </summary>
internal sealed class CaseAppealCommand : AsyncCommand<CaseAppealSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CaseAppealSettings settings, CancellationToken cancellationToken)
    {
        using var key = KeyFile.Read(settings.Key!);
        using var ledger = settings.OpenLedger();
        var appeal = SignedMessage.Create(key, new Appeal { ReceiptId = settings.ReceiptId, AppellantId = key.PeerId, IssuedAt = TimeProvider.System.GetUtcNow() });
        var result = await ledger.AppealAsync(OperationId.New(), appeal, cancellationToken);
        var found = await ledger.GetCaseAsync(settings.ReceiptId, cancellationToken);
        return CaseOutput.Report(settings.Json, result, found, "appeal");
    }
}
