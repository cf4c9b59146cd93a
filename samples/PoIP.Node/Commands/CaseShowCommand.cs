using System.Text.Json;
using PoIP.Core.Economics;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

/// <summary><c>poip case show</c>: where a fraud case stands (verdicts, panel, appeal deadline). Exit 0, or 1 when the ledger has no such case.</summary>
internal sealed class CaseShowCommand : AsyncCommand<CaseSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CaseSettings settings, CancellationToken cancellationToken)
    {
        using var ledger = settings.OpenLedger();
        var found = await ledger.GetCaseAsync(settings.ReceiptId, cancellationToken);
        if (found is null)
        {
            await Console.Error.WriteLineAsync($"error: the ledger has no case on receipt {settings.ReceiptId}.");
            return ExitCodes.Fault;
        }

        var rules = await ledger.GetAccountabilityRulesAsync(cancellationToken);
        DateTimeOffset? deadline = found.DecidedAt is { } decided && rules.AppealWindow > TimeSpan.Zero ? decided + rules.AppealWindow : null;
        var figures = Describe(found, rules, deadline);
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(figures));
            return ExitCodes.Ok;
        }

        var table = new Table().Title("case " + found.Receipt).AddColumns("field", "value").HideHeaders();
        foreach (var (key, value) in figures)
        {
            table.AddRow(key.Replace('_', ' '), Markup.Escape(value is IEnumerable<string> list ? string.Join(", ", list) : value?.ToString() ?? "-"));
        }

        AnsiConsole.Write(table);
        return ExitCodes.Ok;
    }

    internal static Dictionary<string, object?> Describe(DisputeCase found, AccountabilityRules rules, DateTimeOffset? deadline) => new()
    {
        ["receipt"] = found.Receipt.ToString(),
        ["state"] = found.State.ToString().ToLowerInvariant(),
        ["accused"] = found.Accused.ToString(),
        ["request"] = found.Request.ToString(),
        ["opener"] = found.Opener.ToString(),
        ["fraud_verdicts"] = found.FraudVerdicts.Select(p => p.ToString()).ToList(),
        ["valid_verdicts"] = found.ValidVerdicts.Select(p => p.ToString()).ToList(),
        ["slash_quorum"] = rules.SlashQuorum,
        ["panel"] = found.Panel.Select(p => p.ToString()).ToList(),
        ["decided_at"] = found.DecidedAt?.ToString("O"),
        ["appeal_deadline"] = deadline?.ToString("O"),
        ["planted"] = found.Planted,
    };
}
