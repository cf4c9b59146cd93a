using System.Text.Json;
using PoIP.Core.Economics;
using Spectre.Console;

namespace PoIP.Node.Commands;

/// <summary>How <c>poip case appeal</c> and <c>finalize</c> report the ledger's answer.</summary>
internal static class CaseOutput
{
    public static int Report(bool json, EconomicResult result, DisputeCase? found, string action)
    {
        bool applied = result.IsApplied;
        if (!applied)
        {
            Console.Error.WriteLine($"error: the ledger refused the {action}: {result.Detail}");
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["applied"] = applied,
                ["status"] = JsonNamingPolicy.SnakeCaseLower.ConvertName(result.Status.ToString()),
                ["message"] = result.Detail,
                ["state"] = found?.State.ToString().ToLowerInvariant(),
                ["panel"] = found?.Panel.Select(p => p.ToString()).ToList(),
            }));
        }
        else if (applied)
        {
            AnsiConsole.MarkupLine($"[green]{Markup.Escape(result.Detail.Length > 0 ? result.Detail : action)}[/] (case {(found is null ? "-" : found.State.ToString().ToLowerInvariant())})");
            if (found is { Panel.Count: > 0 })
            {
                AnsiConsole.WriteLine("panel: " + string.Join(", ", found.Panel));
            }
        }

        return applied ? ExitCodes.Ok : ExitCodes.Fault;
    }
}
