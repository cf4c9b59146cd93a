using System.Globalization;
using System.Text.Json;
using PoIP.Testing.LocalNetwork;
using PoIP.Inference.Gguf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

/// <summary>
/// The main job: a PoIP network on loopback (llama.cpp nodes on libp2p, one cheating; a validator;
/// a client; the embedded ledger), a stream of requests, and the final standings.
/// </summary>
internal sealed class DemoCommand : AsyncCommand<DemoSettings>
{
    private static readonly string[] Prompts =
    [
        "Once upon a time, there was a little girl named Lily.",
        "The cat sat on the mat and",
        "Tom had a red ball. One day,",
        "In a small town, a dog named Max",
        "The sun was shining and the birds",
        "Mia wanted to play with her friend",
    ];

    public override async Task<int> ExecuteAsync(CommandContext context, DemoSettings settings, CancellationToken cancellationToken)
    {
        string data = Directory.CreateTempSubdirectory("poip-demo-").FullName;
        try
        {
            string model = ResolveModel(settings, data);
            var options = new LocalNetworkOptions
            {
                ModelPath = model,
                DataDirectory = data,
                Nodes = settings.Nodes,
                Cheat = settings.CheatKind,
                AuditProbability = settings.AuditProbability,
                MaxTokens = settings.MaxTokens,
                Selection = settings.SelectionPolicy,
            };

            if (!settings.Json)
            {
                AnsiConsole.MarkupLine($"[bold]PoIP demo[/]{(settings.SeparateProcesses ? " (one OS process per role)" : string.Empty)}: {settings.Nodes} nodes (last cheats: [yellow]{settings.Cheat}[/]), 1 validator (audit p = {settings.AuditProbability}), 1 client, model {Markup.Escape(Path.GetFileName(model))}");
            }

            NetworkSummary summary;
            if (settings.SeparateProcesses)
            {
                summary = await SeparateProcessDemo.RunAsync(settings, model, data, Prompts, report =>
                {
                    if (!settings.Json)
                    {
                        PrintReport(report);
                    }
                }, cancellationToken);
            }
            else
            {
                summary = await RunInProcessAsync(settings, options, cancellationToken);
            }

            if (settings.Json)
            {
                Console.WriteLine(JsonSerializer.Serialize(ToJson(summary)));
            }
            else
            {
                Render(summary);
            }

            bool cheaterCaught = settings.CheatKind == CheatKind.None || summary.Nodes.Where(n => n.Cheats).All(n => n.Frauds > 0 || n.Audits == 0);
            bool honestSpared = summary.Nodes.Where(n => !n.Cheats).All(n => n.Frauds == 0);
            return summary.Totals.IsConserved && summary.JournalMatchesTables && honestSpared && cheaterCaught ? 0 : 1;
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<NetworkSummary> RunInProcessAsync(DemoSettings settings, LocalNetworkOptions options, CancellationToken cancellationToken)
    {
        await using var network = await LocalNetwork.StartAsync(options, cancellationToken);
        if (settings.Json)
        {
            for (int i = 0; i < settings.Requests; i++)
            {
                await network.AskAsync(Prompts[i % Prompts.Length], settings.Seed + (ulong)i, cancellationToken);
            }
        }
        else
        {
            await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("requests", maxValue: settings.Requests);
                    for (int i = 0; i < settings.Requests; i++)
                    {
                        PrintReport(await network.AskAsync(Prompts[i % Prompts.Length], settings.Seed + (ulong)i, cancellationToken));
                        task.Increment(1);
                    }
                });
        }

        return await network.FinishAsync(cancellationToken);
    }

    private static void PrintReport(RequestReport report)
    {
        string color = report.Verdict == "Fraud" ? "red" : report.Audited ? "green" : "grey";
        AnsiConsole.MarkupLine($"#{report.Index,-3} {Markup.Escape(report.Node),-20} [{color}]{Markup.Escape(report.Verdict),-12}[/] {Markup.Escape(Shorten(report.Text))}");
        foreach (string failure in report.FailedAttempts)
        {
            AnsiConsole.MarkupLine($"     [yellow]retried after: {Markup.Escape(failure)}[/]");
        }

        if (report.Verdict == "Fraud")
        {
            AnsiConsole.MarkupLine($"     [red]{Markup.Escape(report.Detail)}[/]");
        }
    }

    private static string ResolveModel(DemoSettings settings, string data)
    {
        if (settings.Model is not null || Environment.GetEnvironmentVariable("POIP_MODEL") is not null || ModelLocator.Stories260K() is not null)
        {
            return ModelLocator.Resolve(settings.Model);
        }

        string path = Path.Combine(data, "synthesized.gguf");
        AnsiConsole.MarkupLine("[yellow]stories260K.gguf not found beside the repository (../shared/models): using a synthesized seeded model, so the text is not readable.[/]");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 64, Layers = 2, Heads = 4, FeedForward = 128, Vocabulary = 512, Seed = 7 }, path);
        return path;
    }

    private static string Shorten(string text)
    {
        string oneLine = text.Replace('\n', ' ');
        return oneLine.Length <= 60 ? oneLine : oneLine[..57] + "...";
    }

    private static void Render(NetworkSummary summary)
    {
        var table = new Table().Title("nodes").AddColumns("node", "served", "audits", "frauds", "earned", "stake before", "stake after", "reputation");
        foreach (var n in summary.Nodes)
        {
            string stakeColor = n.StakeAfter < n.StakeBefore ? "red" : "green";
            table.AddRow(
                Markup.Escape(n.Name),
                n.Served.ToString(CultureInfo.InvariantCulture),
                n.Audits.ToString(CultureInfo.InvariantCulture),
                n.Frauds > 0 ? $"[red]{n.Frauds}[/]" : "0",
                n.Earned.ToString(),
                n.StakeBefore.ToString(),
                $"[{stakeColor}]{n.StakeAfter}[/]",
                n.Reputation.ToString("F2", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        var totals = summary.Totals;
        var money = new Table().Title("ledger").AddColumns("supply", "balances", "bonded", "unbonding", "escrowed", "public fund", "burned", "conserved", "journal = tables");
        money.AddRow(totals.Supply.ToString(), totals.Balances.ToString(), totals.Bonded.ToString(), totals.Unbonding.ToString(), totals.Escrowed.ToString(), totals.PublicFund.ToString(), totals.Burned.ToString(),
            totals.IsConserved ? "[green]yes[/]" : "[red]NO[/]", summary.JournalMatchesTables ? "[green]yes[/]" : "[red]NO[/]");
        AnsiConsole.Write(money);
        double rate = summary.Requests / Math.Max(summary.Elapsed.TotalSeconds, 1e-9);
        AnsiConsole.MarkupLine($"{summary.Requests} requests in {summary.Elapsed.TotalSeconds:F1} s ({rate:F2} req/s), {summary.Audited} audited, {summary.Settled} paid, {summary.Refunded} refunded; first fraud caught and slashed at request {(summary.FirstFraudDetectedAfter == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{summary.FirstFraudDetectedAfter} ({summary.FirstFraudSlashedAfter.TotalSeconds:F1} s in)"))}.");
    }

    private static Dictionary<string, object> ToJson(NetworkSummary s) => new()
    {
        ["requests"] = s.Requests,
        ["audited"] = s.Audited,
        ["settled"] = s.Settled,
        ["refunded"] = s.Refunded,
        ["abandoned_attempts"] = s.AbandonedAttempts,
        ["elapsed_s"] = Math.Round(s.Elapsed.TotalSeconds, 3),
        ["requests_per_s"] = Math.Round(s.Requests / Math.Max(s.Elapsed.TotalSeconds, 1e-9), 3),
        ["first_fraud_at_request"] = s.FirstFraudDetectedAfter,
        ["first_fraud_slashed_after_s"] = Math.Round(s.FirstFraudSlashedAfter.TotalSeconds, 3),
        ["audit_share"] = Math.Round(s.Audited / (double)Math.Max(1, s.Requests), 3),
        ["conserved"] = s.Totals.IsConserved,
        ["journal_matches_tables"] = s.JournalMatchesTables,
        ["burned"] = s.Totals.Burned.ToString(),
        ["public_fund"] = s.Totals.PublicFund.ToString(),
        ["nodes"] = s.Nodes.Select(n => new Dictionary<string, object>
        {
            ["name"] = n.Name,
            ["peer_id"] = n.PeerId.ToString(),
            ["cheats"] = n.Cheats,
            ["served"] = n.Served,
            ["audits"] = n.Audits,
            ["frauds"] = n.Frauds,
            ["earned"] = n.Earned.ToString(),
            ["stake_before"] = n.StakeBefore.ToString(),
            ["stake_after"] = n.StakeAfter.ToString(),
            ["reputation"] = Math.Round(n.Reputation, 3),
        }).ToList(),
    };
}
