using System.Globalization;
using System.Text.Json;
using PoIP.Testing.LocalNetwork;
using PoIP.Inference.Gguf;
using PoIP.Node.Hosts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

/// <summary>
/// The main job: a PoIP network on loopback (llama.cpp nodes on libp2p, one cheating; a validator;
/// a client; the embedded ledger), a stream of requests, and the final standings.
/// </summary>
internal sealed class DemoCommand : AsyncCommand<DemoSettings>
{
    internal static readonly string[] Prompts =
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
        var plan = settings.Plan;
        if (settings.Hosts && HostLab.Unsupported() is { } why)
        {
            await Console.Error.WriteLineAsync($"error: poip demo --hosts {why}.");
            return 2;
        }

        Chain.ChainDeployment? deployment;
        try
        {
            deployment = Chain.DemoChain.Validate(settings.Chain, settings.Deployment);
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 2;
        }

        HostLab? lab = null;
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
                AuditProbability = plan.AuditProbability,
                MaxTokens = settings.MaxTokens,
                Selection = settings.SelectionPolicy,
                Ledger = Chain.DemoChain.Factory(settings.Chain, deployment, line =>
                {
                    if (!settings.Json)
                    {
                        AnsiConsole.MarkupLine($"[grey]settling on chain: {Markup.Escape(line)}[/]");
                    }
                }),
            };

            if (!settings.Json)
            {
                AnsiConsole.MarkupLine($"[bold]PoIP demo[/]{(settings.Hosts ? " (every role on its own host: a network namespace)" : settings.SeparateProcesses ? " (one OS process per role)" : string.Empty)}: {settings.Nodes} nodes (last cheats: [yellow]{settings.Cheat}[/]), 1 validator (audit p = {plan.AuditProbability.ToString(CultureInfo.InvariantCulture)}), 1 client, model {Markup.Escape(Path.GetFileName(model))}");
                if (settings.CheatKind != CheatKind.None)
                {
                    AnsiConsole.MarkupLine($"[{(plan.MeetsTarget ? "grey" : "yellow")}]{Markup.Escape(plan.Describe(settings.Nodes, settings.SelectionPolicy))}[/]");
                }
            }

            NetworkSummary summary;
            NamespacePlacement? hosts = null;
            if (settings.SeparateProcesses || settings.Hosts)
            {
                IRolePlacement placement = new LocalPlacement(data);
                if (settings.Hosts)
                {
                    lab = HostLab.Create();
                    placement = hosts = new NamespacePlacement(lab, new LinkSettings(TimeSpan.FromMilliseconds(settings.LinkDelayMs)));
                    if (!settings.Json)
                    {
                        AnsiConsole.MarkupLine($"[grey]host lab run {lab.RunId}: namespaces {lab.RunPrefix}<role>, subnet {lab.Subnet}[/]");
                    }
                }

                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lab?.Stopping ?? CancellationToken.None);
                if (lab is not null && hosts is not null && !settings.SharedLedger)
                {
                    summary = await NetworkHostsDemo.RunAsync(settings, plan, model, Prompts, report =>
                    {
                        if (!settings.Json)
                        {
                            PrintReport(report);
                        }
                    }, lab, hosts, line =>
                    {
                        if (!settings.Json)
                        {
                            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
                        }
                    }, linked.Token);
                }
                else
                {
                    summary = await SeparateProcessDemo.RunAsync(settings, plan, model, data, Prompts, report =>
                    {
                        if (!settings.Json)
                        {
                            PrintReport(report);
                        }
                    }, placement, linked.Token);
                }
            }
            else
            {
                summary = await RunInProcessAsync(settings, plan.Requests, options, s => Report(settings, s, plan, DemoOutcome.Judge(s, settings.CheatKind != CheatKind.None, plan.AuditProbability), lab: null, hosts: null), cancellationToken);
            }

            var outcome = DemoOutcome.Judge(summary, settings.CheatKind != CheatKind.None, plan.AuditProbability);
            if (!settings.Serve)
            {
                Report(settings, summary, plan, outcome, lab, hosts); // --serve reported it before serving
            }

            foreach (string problem in outcome.Problems)
            {
                await Console.Error.WriteLineAsync("error: " + problem);
            }

            return outcome.Problems.Count == 0 ? 0 : 1;
        }
        catch (Exception ex) when (ex is HostLabException || (ex is OperationCanceledException && lab is { Stopping.IsCancellationRequested: true }))
        {
            await Console.Error.WriteLineAsync(ex is HostLabException ? "error: " + ex.Message : "error: interrupted; removing every namespace, device and process the run made.");
            return ex is HostLabException ? 1 : 130;
        }
        finally
        {
            if (lab is not null)
            {
                await lab.DisposeAsync();
            }

            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<NetworkSummary> RunInProcessAsync(DemoSettings settings, int requests, LocalNetworkOptions options, Action<NetworkSummary> reportBeforeServing, CancellationToken cancellationToken)
    {
        await using var network = await LocalNetwork.StartAsync(options, cancellationToken);
        if (settings.Json)
        {
            for (int i = 0; i < requests; i++)
            {
                await network.AskAsync(Prompts[i % Prompts.Length], settings.Seed + (ulong)i, cancellationToken);
            }
        }
        else
        {
            await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("requests", maxValue: requests);
                    for (int i = 0; i < requests; i++)
                    {
                        PrintReport(await network.AskAsync(Prompts[i % Prompts.Length], settings.Seed + (ulong)i, cancellationToken));
                        task.Increment(1);
                    }
                });
        }

        var summary = await network.FinishAsync(cancellationToken);
        if (settings.Serve)
        {
            reportBeforeServing(summary);
            await ServeAsync(network, options.ModelPath, settings, cancellationToken);
        }

        return summary;
    }

    private static void Report(DemoSettings settings, NetworkSummary summary, DemoPlan plan, DemoOutcome outcome, HostLab? lab, NamespacePlacement? hosts)
    {
        if (settings.Json)
        {
            var json = ToJson(summary, plan, settings.CheatKind != CheatKind.None, outcome);
            if (settings.Chain is not null || OnChain(settings))
            {
                json["ledger"] = "chain";
                json["contract_holds_supply"] = json["journal_matches_tables"];
                json.Remove("journal_matches_tables");
            }

            json["mode"] = settings.Hosts ? "hosts" : settings.SeparateProcesses ? "separate-processes" : "in-process";
            if (lab is not null && hosts is not null)
            {
                json["run"] = lab.RunId;
                json["subnet"] = lab.Subnet;
                json["link_delay_ms"] = settings.LinkDelayMs;
                json["wiring"] = settings.SharedLedger ? "shared-ledger" : NetworkHostsDemo.Wiring;
                json["hosts"] = hosts.Hosts.Select(h => new Dictionary<string, string> { ["role"] = h.Key, ["namespace"] = h.Value.Namespace, ["address"] = h.Value.Address.ToString() }).ToList();
            }

            Console.WriteLine(JsonSerializer.Serialize(json));
        }
        else
        {
            Render(summary, outcome, settings.Chain is null && !OnChain(settings) ? "journal = tables" : "contract coin = supply");
        }
    }

    /// <summary>The many-hosts demo's default wiring settles on a chain.</summary>
    private static bool OnChain(DemoSettings settings) => settings.Hosts && !settings.SharedLedger;

    /// <summary>Keeps the demo network up behind the gateway until Ctrl+C.</summary>
    private static async Task ServeAsync(LocalNetwork network, string modelPath, DemoSettings settings, CancellationToken cancellationToken)
    {
        var model = await PoIP.Gateway.GatewayModel.FromGgufAsync(modelPath, cancellationToken);
        var builder = GatewayServer.CreateBuilder(GatewayServer.ParseHttp(settings.Http ?? "127.0.0.1:8080")!, verbose: false);
        PoIP.Gateway.PoIPGatewayExtensions.AddPoIPGateway(builder.Services, o =>
        {
            o.Models.Add(model);
            o.MaxTokensLimit = settings.MaxTokens;
            o.DefaultMaxTokens = settings.MaxTokens;
        }, _ => network.Client);
        await using var app = builder.Build();
        PoIP.Gateway.PoIPGatewayExtensions.MapPoIPGateway(app);
        await app.StartAsync(cancellationToken);
        GatewayServer.Announce(app);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Stop(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        // SIGINT and SIGTERM both end serving (the command's token alone did not see SIGTERM).
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: stop serving and finish normally.
        }

        await app.StopAsync(CancellationToken.None);
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

    private static void Render(NetworkSummary summary, DemoOutcome outcome, string check)
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
        var money = new Table().Title("ledger").AddColumns("supply", "balances", "bonded", "unbonding", "escrowed", "public fund", "burned", "conserved", check);
        money.AddRow(totals.Supply.ToString(), totals.Balances.ToString(), totals.Bonded.ToString(), totals.Unbonding.ToString(), totals.Escrowed.ToString(), totals.PublicFund.ToString(), totals.Burned.ToString(),
            totals.IsConserved ? "[green]yes[/]" : "[red]NO[/]", summary.JournalMatchesTables ? "[green]yes[/]" : "[red]NO[/]");
        AnsiConsole.Write(money);
        double rate = summary.Requests / Math.Max(summary.Elapsed.TotalSeconds, 1e-9);
        AnsiConsole.MarkupLine($"{summary.Requests} requests in {summary.Elapsed.TotalSeconds:F1} s ({rate:F2} req/s), {summary.Audited} audited, {summary.Settled} paid, {summary.Refunded} refunded.");
        if (outcome.CheaterCaught is true)
        {
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"[green]The cheater was caught and slashed at request {summary.FirstFraudDetectedAfter} ({summary.FirstFraudSlashedAfter.TotalSeconds:F1} s in).[/]"));
        }
        else if (outcome.CheaterCaught is false)
        {
            AnsiConsole.MarkupLine("[red]The cheater was NOT caught.[/]");
        }
    }

    private static Dictionary<string, object?> ToJson(NetworkSummary s, DemoPlan plan, bool cheats, DemoOutcome outcome) => new()
    {
        ["requests"] = s.Requests,
        ["audit_p"] = plan.AuditProbability,
        ["cheater_guaranteed_answers"] = cheats ? plan.CheaterAnswers : null,
        ["miss_probability"] = cheats ? plan.MissProbability : null,
        ["cheater_caught"] = outcome.CheaterCaught,
        ["ok"] = outcome.Problems.Count == 0,
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
