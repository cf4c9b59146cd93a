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
    public string? Ledger { get; init; }

    [CommandOption("--chain <URL>")]
    [Description("Instead of --ledger: PoIPLedger on this chain (JSON-RPC URL); needs --deployment.")]
    public string? Chain { get; init; }

    [CommandOption("--deployment <FILE>")]
    [Description("With --chain: the deployment file from 'poip chain dev' or 'poip chain deploy'.")]
    public string? Deployment { get; init; }

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
        Ledger is not null && Chain is not null ? ValidationResult.Error("--ledger and --chain are two ledgers: pick one.")
        : Chain is not null ? (!Uri.TryCreate(Chain, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) ? ValidationResult.Error($"--chain must be an http(s) RPC URL (got '{Chain}').")
            : Deployment is null ? ValidationResult.Error("--chain needs --deployment FILE.")
            : !File.Exists(Deployment) ? ValidationResult.Error($"deployment file '{Deployment}' not found.")
            : ValidationResult.Success())
        : Deployment is not null ? ValidationResult.Error("--deployment needs --chain URL.")
        : string.IsNullOrWhiteSpace(Ledger) ? ValidationResult.Error("--ledger FILE (or --chain URL --deployment FILE) is required.")
        : !File.Exists(Ledger) ? ValidationResult.Error($"ledger '{Ledger}' not found.")
        : ValidationResult.Success();
}

/// <summary><c>poip ledger show</c>: the ledger's totals (conservation; the journal check, or on a chain that the contract holds its supply) and the accounts asked for.</summary>
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

        var deployment = settings.Deployment is null ? null : Chain.ChainDeployment.Load(settings.Deployment); // malformed: exit 2 before any chain call
        using var opened = deployment is null
            ? (IDisposable)EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = Path.GetFullPath(settings.Ledger!) })
            : await Chain.ChainReads.ConnectAsync(new Uri(settings.Chain!), deployment, cancellationToken);
        var ledger = (Core.Economics.IStakeManager)opened;
        var totals = await ledger.GetTotalsAsync(cancellationToken);
        var journal = ledger is EmbeddedStakeManager embedded
            ? await embedded.VerifyJournalAsync(cancellationToken)
            : await Chain.ChainReads.CheckAsync((Economics.Evm.EvmStakeManager)ledger, cancellationToken);
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
                ["balances"] = totals.Balances.ToString(),
                ["bonded"] = totals.Bonded.ToString(),
                ["unbonding"] = totals.Unbonding.ToString(),
                ["escrowed"] = totals.Escrowed.ToString(),
                ["burned"] = totals.Burned.ToString(),
                ["public_fund"] = totals.PublicFund.ToString(),
                ["conserved"] = totals.IsConserved,
                [deployment is null ? "journal_operations" : "block"] = journal.Operations,
                [deployment is null ? "journal_matches_tables" : "contract_holds_supply"] = journal.Matches,
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

        var money = new Table().Title(deployment is null ? "ledger" : "ledger on chain " + deployment.ChainId).AddColumns("supply", "balances", "bonded", "unbonding", "escrowed", "public fund", "burned", "conserved", deployment is null ? "journal = tables" : "contract coin = supply");
        money.AddRow(totals.Supply.ToString(), totals.Balances.ToString(), totals.Bonded.ToString(), totals.Unbonding.ToString(), totals.Escrowed.ToString(), totals.PublicFund.ToString(), totals.Burned.ToString(),
            totals.IsConserved ? "[green]yes[/]" : "[red]NO[/]",   journal.Matches ? $"[green]yes[/] ({(deployment is null ? $"{journal.Operations} operations" : $"block {journal.Operations}")})" : "[red]NO[/] " + Markup.Escape(journal.Difference));
        AnsiConsole.Write(money);
        return totals.IsConserved && journal.Matches ? 0 : 1;
    }
}
