using System.ComponentModel;
using System.Text.Json;
using PoIP.Core.Identity;
using PoIP.Economics.Embedded;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class LedgerShowSettings : CommandSettings
{
    [CommandOption("--ledger <FILE>")]
    [Description("The SQLite ledger (must exist).")]
    public string Ledger { get; init; } = string.Empty;

    [CommandOption("--key <FILE>")]
    [Description("Show this identity's account (repeatable).")]
    public string[] Keys { get; init; } = [];

    [CommandOption("--peer <PEER_ID>")]
    [Description("Show this peer's account (repeatable).")]
    public string[] Peers { get; init; } = [];

    [CommandOption("--json")]
    [Description("One JSON object instead of tables.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Ledger) ? ValidationResult.Error("--ledger is required.")
        : !File.Exists(Ledger) ? ValidationResult.Error($"ledger '{Ledger}' not found.")
        : ValidationResult.Success();
}

/// <summary><c>poip ledger show</c>: the ledger's totals (conservation, journal check) and the accounts asked for.</summary>
internal sealed class LedgerShowCommand : AsyncCommand<LedgerShowSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, LedgerShowSettings settings, CancellationToken cancellationToken)
    {
        var peers = new List<(string Name, PeerId Id)>();
        foreach (string key in settings.Keys)
        {
            using var pair = KeyFile.Read(key);
            peers.Add((Path.GetFileNameWithoutExtension(key), pair.PeerId));
        }

        foreach (string peer in settings.Peers)
        {
            if (!PeerId.TryParse(peer, out var id))
            {
                await Console.Error.WriteLineAsync($"error: '{peer}' is not a peer id.");
                return 2;
            }

            peers.Add((peer[..Math.Min(12, peer.Length)] + "…", id));
        }

        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = Path.GetFullPath(settings.Ledger) });
        var totals = await ledger.GetTotalsAsync(cancellationToken);
        var journal = await ledger.VerifyJournalAsync(cancellationToken);
        var rows = new List<Dictionary<string, object>>();
        foreach (var (name, id) in peers)
        {
            var stake = await ledger.GetStakeAsync(id, cancellationToken);
            rows.Add(new Dictionary<string, object>
            {
                ["name"] = name,
                ["peer_id"] = id.ToString(),
                ["balance"] = (await ledger.GetBalanceAsync(id, cancellationToken)).ToString(),
                ["bonded"] = stake.Bonded.ToString(),
                ["unbonding"] = stake.Unbonding.ToString(),
                ["may_serve"] = await ledger.CanServeAsync(id, cancellationToken),
                ["validator"] = await ledger.IsValidatorAsync(id, cancellationToken),
            });
        }

        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["accounts"] = rows,
                ["supply"] = totals.Supply.ToString(),
                ["escrowed"] = totals.Escrowed.ToString(),
                ["burned"] = totals.Burned.ToString(),
                ["public_fund"] = totals.PublicFund.ToString(),
                ["conserved"] = totals.IsConserved,
                ["journal_operations"] = journal.Operations,
                ["journal_matches_tables"] = journal.Matches,
            }));
            return totals.IsConserved && journal.Matches ? 0 : 1;
        }

        if (rows.Count > 0)
        {
            var table = new Table().Title("accounts").AddColumns("name", "peer id", "balance", "bonded", "unbonding", "may serve", "validator");
            foreach (var row in rows)
            {
                table.AddRow(Markup.Escape((string)row["name"]), (string)row["peer_id"], (string)row["balance"], (string)row["bonded"], (string)row["unbonding"], (bool)row["may_serve"] ? "yes" : "[red]no[/]", (bool)row["validator"] ? "yes" : "no");
            }

            AnsiConsole.Write(table);
        }

        var money = new Table().Title("ledger").AddColumns("supply", "balances", "bonded", "unbonding", "escrowed", "public fund", "burned", "conserved", "journal = tables");
        money.AddRow(totals.Supply.ToString(), totals.Balances.ToString(), totals.Bonded.ToString(), totals.Unbonding.ToString(), totals.Escrowed.ToString(), totals.PublicFund.ToString(), totals.Burned.ToString(),
            totals.IsConserved ? "[green]yes[/]" : "[red]NO[/]", journal.Matches ? $"[green]yes[/] ({journal.Operations} operations)" : "[red]NO[/] " + Markup.Escape(journal.Difference));
        AnsiConsole.Write(money);
        return totals.IsConserved && journal.Matches ? 0 : 1;
    }
}
