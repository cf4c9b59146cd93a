using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PoIP.Network.Addressing;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands.Soak;

/// <summary>
/// <c>poip soak</c>: a node network on loopback, every role its own process (nodes, a validator, the gateway) with its own
/// folder and key, wired by <c>--wiring</c>: one shared SQLite ledger and addresses handed to the gateway
/// (<c>shared-ledger</c>), or a DHT bootstrap peer and a dev chain (<c>dht-chain</c>: the gateway finds the nodes and the
/// validator in the DHT; every escrow and payment on PoIPLedger, checked from the chain), and concurrent streaming clients
/// through the gateway's OpenAI API for a duration. Checks that
/// throughput held steady, every role's memory stayed bounded, no libp2p stream or TCP connection outlived the load, every
/// escrow was settled or refunded, no request was lost and none paid twice. Exit 0 only when every check holds.
/// </summary>
internal sealed class SoakCommand : AsyncCommand<SoakSettings>
{
    /// <summary>Resident memory at the end may be at most this factor of the start, plus <see cref="RssSlackMiB"/>.</summary>
    public const double RssGrowthFactor = 1.5;

    /// <summary>Slack on the memory bound (a short run's heap grows before it settles).</summary>
    public const double RssSlackMiB = 64;

    public override async Task<int> ExecuteAsync(CommandContext context, SoakSettings settings, CancellationToken cancellationToken)
    {
        string model = ModelLocator.Resolve(settings.Model);
        bool ownData = settings.Data is null;
        string data = settings.Data is { } given ? Directory.CreateDirectory(given).FullName : Directory.CreateTempSubdirectory("poip-soak-").FullName;
        try
        {
            var report = await RunAsync(settings, model, data, keepLogs: !ownData, cancellationToken);
            if (settings.Json)
            {
                Console.WriteLine(report.ToJsonString());
            }
            else
            {
                Render(report);
            }

            return report["ok"]!.GetValue<bool>() ? ExitCodes.Ok : ExitCodes.Fault;
        }
        finally
        {
            if (ownData)
            {
                try
                {
                    Directory.Delete(data, recursive: true);
                }
                catch (IOException)
                {
                    // a role still holds a file: leave the temporary folder
                }
            }
        }
    }

    private static async Task<JsonObject> RunAsync(SoakSettings settings, string model, string data, bool keepLogs, CancellationToken cancellationToken)
    {
        double? loadAtStart = ProcessProbe.LoadAverage();
        var placement = new LocalPlacement(data);
        string max = settings.MaxTokens.ToString(CultureInfo.InvariantCulture);
        const string price = "0.0001";
        var infrastructure = new List<SoakRole>();
        var roles = new List<SoakRole>();
        try
        {
            IRoleWiring wiring;
            if (settings.OnChain)
            {
                // A dev chain (Anvil with PoIPLedger, 60 s dispute window, a block every --block-time as on a real
                // chain: one per transaction costs Anvil a pass over the whole state each, which grows with every
                // escrow) and the DHT's first peer, each its own process.
                string deployment = Path.Combine(placement.FolderOf("chain"), "deployment.json");
                var chain = SoakRole.StartAsync("chain", placement, ["chain", "dev", "--out", deployment, "--accounts", "1", "--dispute-window", "60", "--block-time", settings.BlockTime.ToString("0.###", CultureInfo.InvariantCulture)], cancellationToken);
                var bootstrap = SoakRole.StartAsync("bootstrap", placement, ["dht", "serve"], cancellationToken);
                infrastructure.AddRange(await StartAllAsync([chain, bootstrap]));
                wiring = new DhtChainWiring(infrastructure[0].ReadyLine, deployment, infrastructure[1].ReadyLine, placement);
            }
            else
            {
                string ledger = Path.Combine(data, "ledger.db");
                SoakLedger.CreateGenesis(ledger);
                wiring = new SharedLedgerWiring(ledger);
            }

            string KeyOf(string role) => Path.Combine(placement.FolderOf(role), "identity.key");
            List<string> Common(string role) => [.. wiring.Settlement(role), "--key", KeyOf(role), "--stop-on-stdin-close"];
            var starting = Enumerable.Range(1, settings.Nodes)
                .Select(i => SoakRole.StartAsync($"node-{i}", placement, ["node", "run", .. Common($"node-{i}"), .. wiring.Announce($"node-{i}"), "--listen", "/ip4/127.0.0.1/tcp/0", "--stake", "200", "--price-per-token", price, "--model", model, "--max-tokens", max, "--threads", "1"], cancellationToken))
                .Append(SoakRole.StartAsync("validator", placement, ["validator", "run", .. Common("validator"), .. wiring.Announce("validator"), "--listen", "/ip4/127.0.0.1/tcp/0", "--audit-p", settings.AuditProbability.ToString("R", CultureInfo.InvariantCulture), "--model", model, "--threads", "1"], cancellationToken))
                .ToList();
            roles.AddRange(await StartAllAsync(starting));

            var nodes = roles.Where(r => r.Name.StartsWith("node-", StringComparison.Ordinal)).ToList();
            var validator = roles.Single(r => r.Name == "validator");
            var nodePeers = nodes.Select(n => Multiaddr.Parse(n.ReadyLine).PeerId!.Value).ToList();

            // Shared ledger: the gateway is handed every address. DHT + chain: it finds the nodes and the validator in the DHT.
            List<string> gatewayArgs = ["gateway", "run", .. Common("gateway"), .. wiring.Discovery(nodes.Select(n => Multiaddr.Parse(n.ReadyLine)), [Multiaddr.Parse(validator.ReadyLine)]),
                "--http", "127.0.0.1:0", "--model", model, "--max-tokens", max, "--price-per-token", price];
            if (settings.NoHedge)
            {
                gatewayArgs.Add("--no-hedge");
            }

            var gateway = await SoakRole.StartAsync("gateway", placement, gatewayArgs, cancellationToken);
            roles.Add(gateway);
            if (wiring is DhtChainWiring { ChainUrl: var rpc })
            {
                foreach (var role in roles)
                {
                    role.ExceptRemotePort = new Uri(rpc).Port; // the chain's RPC connections are not libp2p's: counted apart
                }
            }

            var api = new Uri(gateway.ReadyLine[(gateway.ReadyLine.IndexOf("http", StringComparison.Ordinal))..].Replace("/v1", "/", StringComparison.Ordinal));

            var handler = new SocketsHttpHandler { MaxConnectionsPerServer = settings.Clients, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) };
            SoakLoadResult load;
            IReadOnlyList<SoakAnswer> warmUp;
            var start = new Dictionary<SoakRole, (double Rss, RoleStatus Status, int Tcp)>();
            string modelName;
            NetworkHostsDemo.ChainState? chainBefore = null;
            using (var http = new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromMinutes(2) })
            {
                if (wiring is DhtChainWiring chainWiring)
                {
                    await WaitForNodesAsync(http, api, settings.Nodes, cancellationToken);
                    chainBefore = await SoakChain.ReadStateAsync(placement, chainWiring, nodePeers, cancellationToken);
                }

                using (var models = JsonDocument.Parse(await http.GetStringAsync(new Uri(api, "v1/models"), cancellationToken)))
                {
                    modelName = models.RootElement.GetProperty("data")[0].GetProperty("id").GetString()!;
                }

                warmUp = await SoakLoad.WarmUpAsync(http, api, modelName, settings.Clients, settings.MaxTokens, cancellationToken);
                foreach (var role in roles)
                {
                    start[role] = (role.RssMiB(), await role.StatusAsync(cancellationToken), role.EstablishedTcp());
                }

                load = await new SoakLoad(api, modelName, settings.MaxTokens).RunAsync(http, settings.Clients, settings.DurationValue, cancellationToken);
            }

            // The clients are gone (their HTTP connections closed): every role drains to its idle state, or the check fails.
            var end = await DrainAsync(roles, cancellationToken);
            double? loadAtEnd = ProcessProbe.LoadAverage();
            // Every answer the gateway gave, warm-up included, must be paid exactly once.
            SoakAnswer[] answered = [.. warmUp, .. load.Answers];
            SoakLedgerResult money;
            int notSettledByNodes;
            TimeSpan waitedForNodes;
            JsonObject? chainReport = null;
            if (wiring is DhtChainWiring onChain)
            {
                (money, notSettledByNodes, waitedForNodes, chainReport) = await SoakChain.CloseAndCheckAsync(placement, onChain, roles, KeyOf("gateway"), nodePeers, chainBefore!, answered, cancellationToken);
            }
            else
            {
                string ledger = ((SharedLedgerWiring)wiring).LedgerPath;
                List<Inference.Verification.ReceiptFile> pending;
                int settledByNodes;
                using (var http = new HttpClient())
                {
                    (pending, settledByNodes, notSettledByNodes, waitedForNodes) = await SoakLedger.CollectPendingAsync(ledger, answered, http, api, cancellationToken);
                }

                foreach (var role in roles)
                {
                    await role.StopAsync();
                }

                money = await SoakLedger.CloseAndCheckAsync(ledger, answered, pending, settledByNodes, cancellationToken);
            }

            var report = Report(settings, load, roles, start, end, money, loadAtStart, loadAtEnd);
            report["wiring"] = settings.Wiring;
            report["hedging"] = !settings.NoHedge;
            if (settings.OnChain)
            {
                report["block_time_s"] = settings.BlockTime;
            }

            report["wait_for_node_claims_s"] = Math.Round(waitedForNodes.TotalSeconds, 1);
            report["escrows_not_claimed_by_nodes_in_time"] = notSettledByNodes;
            if (chainReport is not null)
            {
                report["chain"] = chainReport;
            }

            return report;
        }
        finally
        {
            foreach (var role in roles.Concat(infrastructure))
            {
                if (keepLogs)
                {
                    role.SaveErrors(Path.Combine(placement.FolderOf(role.Name), "stderr.log")); // --data: each role's log stays in its folder
                }

                role.Dispose();
            }
        }
    }

    /// <summary>Waits for every start; when one fails, disposes (kills) the ones that started and throws the first failure.</summary>
    private static async Task<List<SoakRole>> StartAllAsync(IReadOnlyList<Task<SoakRole>> starting)
    {
        try
        {
            await Task.WhenAll(starting);
        }
        catch (Exception)
        {
            foreach (var role in starting.Where(t => t.IsCompletedSuccessfully))
            {
                role.Result.Dispose();
            }

            throw;
        }

        return [.. starting.Select(t => t.Result)];
    }

    /// <summary>Polls the gateway's <c>/health</c> (at most 120 s) until it knows <paramref name="nodes"/> nodes: on the DHT it finds them itself.</summary>
    private static async Task WaitForNodesAsync(HttpClient http, Uri api, int nodes, CancellationToken cancellationToken)
    {
        long started = TimeProvider.System.GetTimestamp();
        int seen = 0;
        while (TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(120))
        {
            using (var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(api, "health"), cancellationToken)))
            {
                seen = health.RootElement.TryGetProperty("nodes", out var n) ? n.GetInt32() : 0;
            }

            if (seen >= nodes)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken); // polling an external process, bounded
        }

        throw new InvalidOperationException($"the gateway found {seen} of {nodes} nodes in the DHT within 120 s.");
    }

    /// <summary>Polls every role (at most 30 s) until no libp2p stream is open and its only TCP connections are its libp2p connections.</summary>
    private static async Task<Dictionary<SoakRole, (double Rss, RoleStatus Status, int Tcp)>> DrainAsync(List<SoakRole> roles, CancellationToken cancellationToken)
    {
        var deadline = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var end = new Dictionary<SoakRole, (double Rss, RoleStatus Status, int Tcp)>();
            foreach (var role in roles)
            {
                end[role] = (role.RssMiB(), await role.StatusAsync(cancellationToken), role.EstablishedTcp());
            }

            if (end.Values.All(Idle) || TimeProvider.System.GetElapsedTime(deadline) > TimeSpan.FromSeconds(30))
            {
                return end;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    private static bool Idle((double Rss, RoleStatus Status, int Tcp) probe) => probe.Status.Streams == 0 && (probe.Tcp < 0 || probe.Tcp <= probe.Status.Connections);

    private static JsonObject Report(SoakSettings settings, SoakLoadResult load, List<SoakRole> roles, Dictionary<SoakRole, (double Rss, RoleStatus Status, int Tcp)> start, Dictionary<SoakRole, (double Rss, RoleStatus Status, int Tcp)> end, SoakLedgerResult money, double? loadAtStart, double? loadAtEnd)
    {
        double duration = settings.DurationValue.TotalSeconds;
        double window = Math.Min(settings.Window, duration);
        int windows = Math.Max(1, (int)Math.Floor(duration / window));
        var perWindow = new double[windows];
        foreach (var answer in load.Answers)
        {
            int w = (int)Math.Floor(answer.CompletedAt / window);
            if (w < windows)
            {
                perWindow[w]++;
            }
        }

        double[] rates = [.. perWindow.Select(c => Math.Round(c / window, 2))];
        double median = rates.Order().ElementAt(rates.Length / 2);
        double minRatio = median > 0 ? Math.Round(rates.Min() / median, 3) : 0;
        bool steady = median > 0 && rates.Min() >= SoakSettings.SteadyFraction * median;
        bool memory = roles.All(r => end[r].Rss <= (start[r].Rss * RssGrowthFactor) + RssSlackMiB);
        bool streams = roles.All(r => end[r].Status.Streams == 0);
        bool connections = roles.All(r => end[r].Status.Connections <= start[r].Status.Connections && (end[r].Tcp < 0 || end[r].Tcp <= end[r].Status.Connections));
        bool escrows = money.OpenAtEnd == 0 && (money.EscrowedAtEnd is null || money.EscrowedAtEnd == Core.Money.TokenAmount.Zero);
        bool noLost = load.Lost == 0 && load.UnclearFailures == 0;
        bool paidOnce = money.PaidNotAnswered == 0 && money.AnsweredNotPaid == 0 && money.DuplicateAnswers == 0 && money.GroupsPaidTwice == 0 && money.BalancesMatch is null or true;
        bool conserved = money.Conserved && money.JournalMatches is null or true;
        bool holdsSupply = money.ContractHoldsSupply is null or true;
        var roleArray = new JsonArray();
        foreach (var role in roles)
        {
            roleArray.Add(new JsonObject
            {
                ["role"] = role.Name,
                ["rss_start_mib"] = Math.Round(start[role].Rss, 1),
                ["rss_end_mib"] = Math.Round(end[role].Rss, 1),
                ["connections_start"] = start[role].Status.Connections,
                ["connections_end"] = end[role].Status.Connections,
                ["streams_start"] = start[role].Status.Streams,
                ["streams_end"] = end[role].Status.Streams,
                ["tcp_end"] = end[role].Tcp,
                ["tcp_chain_rpc_end"] = role.ChainRpcTcp,
                ["served"] = end[role].Status.Served,
                ["payments_claimed"] = end[role].Status.PaymentsClaimed,
            });
        }

        var report = new JsonObject
        {
            ["clients"] = settings.Clients,
            ["duration_s"] = Math.Round(load.Elapsed.TotalSeconds, 1),
            ["nodes"] = settings.Nodes,
            ["max_tokens"] = settings.MaxTokens,
            ["window_s"] = window,
            ["requests_answered"] = load.Answers.Count,
            ["warm_up_requests"] = settings.Clients,
            ["requests_lost"] = load.Lost,
            ["attempts_failed_retried"] = load.FailedAttempts,
            ["failures_unclear"] = load.UnclearFailures,
            ["failure_samples"] = new JsonArray([.. load.FailureSamples.Select(s => JsonValue.Create(s))]),
            ["requests_per_s"] = Math.Round(load.Answers.Count / load.Elapsed.TotalSeconds, 2),
            ["window_requests_per_s"] = new JsonArray([.. rates.Select(r => JsonValue.Create(r))]),
            ["window_median_requests_per_s"] = median,
            ["window_min_over_median"] = minRatio,
            ["steady_fraction"] = SoakSettings.SteadyFraction,
            ["roles"] = roleArray,
            ["escrows"] = money.Escrows,
            ["escrows_settled_by_nodes"] = money.SettledByNodes,
            ["escrows_settled_at_end"] = money.SettledAtEnd,
            ["escrows_refunded_at_end"] = money.RefundedAtEnd,
            ["escrows_settled"] = money.Settled,
            ["escrows_refunded"] = money.Refunded,
            ["escrows_open"] = money.OpenAtEnd,
            ["answered_not_paid"] = money.AnsweredNotPaid,
            ["paid_not_answered"] = money.PaidNotAnswered,
            ["double_charged"] = money.PaidNotAnswered + money.DuplicateAnswers + money.GroupsPaidTwice,
            ["paid_through_other_attempt"] = money.PaidThroughOtherAttempt,
            ["conserved"] = money.Conserved,
            ["journal_matches"] = money.JournalMatches,
            ["contract_holds_supply"] = money.ContractHoldsSupply,
            ["node_balances_match"] = money.BalancesMatch,
            ["load_average_start"] = loadAtStart,
            ["load_average_end"] = loadAtEnd,
            ["checks"] = new JsonObject
            {
                ["steady"] = steady,
                ["memory_bounded"] = memory,
                ["no_leaked_streams"] = streams,
                ["no_leaked_connections"] = connections,
                ["escrows_closed"] = escrows,
                ["no_lost_requests"] = noLost,
                ["paid_once"] = paidOnce,
                ["conserved"] = conserved,
            },
            ["ok"] = steady && memory && streams && connections && escrows && noLost && paidOnce && conserved && holdsSupply,
        };
        if (money.ContractHoldsSupply is { } holds)
        {
            report["checks"]!["contract_holds_supply"] = holds;
        }

        return report;
    }

    private static void Render(JsonObject report)
    {
        AnsiConsole.MarkupLine($"[bold]{report["clients"]} clients, {report["duration_s"]} s, {report["nodes"]} nodes[/]: {report["requests_answered"]} answered ({report["requests_per_s"]} req/s), {report["requests_lost"]} lost, {report["attempts_failed_retried"]} failed attempts retried");
        AnsiConsole.MarkupLine($"throughput per {report["window_s"]} s window (req/s): {Markup.Escape(report["window_requests_per_s"]!.ToJsonString())}; min/median {report["window_min_over_median"]} (steady when >= {SoakSettings.SteadyFraction})");
        var table = new Table().Title("roles").AddColumns("role", "RSS start (MiB)", "RSS end (MiB)", "connections start/end", "streams start/end", "TCP end", "served");
        foreach (var role in report["roles"]!.AsArray())
        {
            table.AddRow(role!["role"]!.ToString(), role["rss_start_mib"]!.ToString(), role["rss_end_mib"]!.ToString(), $"{role["connections_start"]}/{role["connections_end"]}", $"{role["streams_start"]}/{role["streams_end"]}", role["tcp_end"]!.ToString(), role["served"]!.ToString());
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"escrows {report["escrows"]}: settled {report["escrows_settled"]} ({report["escrows_settled_by_nodes"]} by the nodes during the run), refunded {report["escrows_refunded"]}, open {report["escrows_open"]}; double charged {report["double_charged"]}; answered not paid {report["answered_not_paid"]}; paid through another attempt {report["paid_through_other_attempt"]}; conserved {report["conserved"]}, {(report["journal_matches"] is null ? $"contract holds supply {report["contract_holds_supply"]}, node balances match {report["node_balances_match"]}" : $"journal = tables {report["journal_matches"]}")}");
        if (report["chain"] is JsonObject chain)
        {
            foreach (var node in chain["nodes"]!.AsArray())
            {
                AnsiConsole.MarkupLine($"node {node!["node_id"]}: {node["answers"]} answers, earned {node["earned_expected"]} (price less {chain["protocol_fee_bps"]} bps), balance grew {node["balance_grew"]} on chain");
            }
        }

        AnsiConsole.MarkupLine($"load average {report["load_average_start"]} -> {report["load_average_end"]}");
        foreach (var (name, value) in report["checks"]!.AsObject())
        {
            AnsiConsole.MarkupLine($"{(value!.GetValue<bool>() ? "[green]ok[/]  " : "[red]FAIL[/]")} {name}");
        }
    }
}
