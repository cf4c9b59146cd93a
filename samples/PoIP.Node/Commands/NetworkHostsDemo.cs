using System.Globalization;
using System.Text.Json;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Reputation;
using PoIP.Node.Hosts;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Node.Commands;

/// <summary>
/// <c>poip demo --hosts</c> (the default wiring): a network with nothing shared but the wire. Every role on its
/// own host of a <see cref="HostLab"/> with its own keys and folder: a <c>chain</c> host (<c>poip chain dev --host
/// ADDR</c>: Anvil with PoIPLedger), a <c>bootstrap</c> host (<c>poip dht serve</c>), the nodes and the validator
/// (<c>--bootstrap</c> and <c>--chain</c> only: no addresses handed to them), a <c>gateway</c> host
/// (<c>poip gateway run --bootstrap</c>: finds the nodes in the DHT) and a <c>user</c> host whose requests enter
/// through the gateway's HTTP API (<c>poip gateway ask</c>). The summary is read from the chain
/// (<c>poip ledger show --chain</c> on the user host): the cheater's stake, every node's balance, conservation
/// and that the contract holds its supply.
/// </summary>
internal static class NetworkHostsDemo
{
    public const string Wiring = "dht-chain";

    private static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(3);

    public static async Task<NetworkSummary> RunAsync(DemoSettings settings, DemoPlan plan, string model, IReadOnlyList<string> prompts, Action<RequestReport> onReport, HostLab lab, NamespacePlacement hosts, Action<string> progress, CancellationToken cancellationToken, Func<HostsRunFigures, Task>? figures = null)
    {
        string max = settings.MaxTokens.ToString(CultureInfo.InvariantCulture);
        var started = new List<LabProcess>();
        LabProcess Start(string role, IReadOnlyList<string> arguments)
        {
            var process = lab.StartPoip(hosts.HostOf(role), arguments);
            started.Add(process);
            return process;
        }

        try
        {
            // The chain and the DHT's first peer, each on its own host.
            var chainHost = hosts.HostOf("chain");
            string deploymentFile = Path.Combine(chainHost.Directory, "deployment.json");
            var chain = Start("chain", ["chain", "dev", "--host", chainHost.Address.ToString(), "--out", deploymentFile, "--accounts", "1"]);
            var bootstrapHost = hosts.HostOf("bootstrap");
            var dht = Start("bootstrap", ["dht", "serve", "--listen", bootstrapHost.ListenAddress(NamespacePlacement.Port)]);
            string chainUrl = await chain.WaitForLineAsync(l => l.StartsWith("http://", StringComparison.Ordinal), StartLimit, cancellationToken: cancellationToken);
            string bootstrap = await dht.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), StartLimit, cancellationToken: cancellationToken);
            progress($"chain at {chainUrl} (host chain), DHT bootstrap {bootstrap} (host bootstrap)");
            var wiring = new DhtChainWiring(chainUrl, deploymentFile, bootstrap, hosts);

            // Nodes and the validator: found through the DHT, settling on the chain.
            var serving = new List<(string Name, bool Cheats, LabProcess Process)>();
            for (int i = 0; i < settings.Nodes; i++)
            {
                bool cheats = settings.CheatKind != CheatKind.None && i == settings.Nodes - 1;
                string role = $"node-{i + 1}";
                List<string> args = ["node", "run", .. wiring.Settlement(role), .. wiring.Announce(role), "--key", hosts.HostOf(role).KeyFile, "--listen", hosts.ListenAddressOf(role), "--stake", "200", "--model", model, "--max-tokens", max, "--threads", "1", "--stop-on-stdin-close"];
                if (cheats)
                {
                    args.AddRange(["--cheat", settings.Cheat]);
                }

                serving.Add((role, cheats, Start(role, args)));
            }

            serving.Add(("validator", false, Start("validator", ["validator", "run", .. wiring.Settlement("validator"), .. wiring.Announce("validator"), "--key", hosts.HostOf("validator").KeyFile, "--listen", hosts.ListenAddressOf("validator"),
                "--audit-p", plan.AuditProbability.ToString("R", CultureInfo.InvariantCulture), "--model", model, "--threads", "1", "--stop-on-stdin-close"])));
            var addresses = new Dictionary<string, Network.Addressing.Multiaddr>();
            foreach (var (name, _, process) in serving)
            {
                string line = await process.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), StartLimit, cancellationToken: cancellationToken);
                addresses[name] = Network.Addressing.Multiaddr.Parse(line);
            }

            var nodes = serving.Where(s => s.Name != "validator").Select(s => (s.Name, s.Cheats, Peer: addresses[s.Name].PeerId!.Value)).ToList();
            progress($"{nodes.Count} nodes and the validator serving; each announced itself in the DHT");

            // The gateway: finds the nodes in the DHT; hands each answer to the validator.
            var gatewayHost = hosts.HostOf("gateway");
            var gateway = Start("gateway", ["gateway", "run", .. wiring.Settlement("gateway"), .. wiring.Discovery([], [addresses["validator"]]), "--key", gatewayHost.KeyFile,
                "--http", $"{gatewayHost.Address}:8080", "--model", model, "--max-tokens", max, "--selection", settings.Selection]);
            const string Announced = "OpenAI-compatible API at ";
            string api = (await gateway.WaitForLineAsync(l => l.StartsWith(Announced, StringComparison.Ordinal), StartLimit, cancellationToken: cancellationToken))[Announced.Length..];
            string gatewayUrl = api.EndsWith("/v1", StringComparison.Ordinal) ? api[..^3] : api;
            progress($"gateway at {gatewayUrl} (host gateway)");

            var before = await ReadChainAsync(lab, hosts, wiring, nodes.Select(n => n.Peer), cancellationToken);
            var cpuAtStart = CpuOfRoles(serving.Select(s => (s.Name, s.Process)), gateway, dht); // start-up: model load, JIT, DHT join, chain set-up

            // The user: every request through the gateway's HTTP API.
            var user = Start("user", ["gateway", "ask", "--url", gatewayUrl, "--repeat", plan.Requests.ToString(CultureInfo.InvariantCulture), "--max-tokens", max, "--seed", settings.Seed.ToString(CultureInfo.InvariantCulture),
                "--wait-nodes", settings.Nodes.ToString(CultureInfo.InvariantCulture), "--audit-wait", "30", "--timeout", "120", "--json", .. prompts]);
            long userStarted = TimeProvider.System.GetTimestamp();
            int userExit = await user.WaitForExitAsync(TimeSpan.FromMinutes(30));
            var userWall = TimeProvider.System.GetElapsedTime(userStarted);
            var reports = new List<RequestReport>();
            var errors = new List<string>();
            foreach (string line in user.Stdout)
            {
                var json = JsonDocument.Parse(line).RootElement;
                if (!json.TryGetProperty("index", out var index))
                {
                    continue; // the summary line
                }

                if (json.TryGetProperty("error", out var error))
                {
                    errors.Add($"request {index.GetInt32()}: {error.GetString()}");
                    continue;
                }

                var peer = PeerId.Parse(json.GetProperty("node").GetString()!);
                string audit = json.GetProperty("audit").GetString() ?? "pending";
                string verdict = audit switch { "valid" => "Valid", "fraud" => "Fraud", "inconclusive" => "Inconclusive", _ => "not audited" };
                var report = new RequestReport(reports.Count + 1, nodes.Single(n => n.Peer == peer).Name, json.GetProperty("text").GetString() ?? string.Empty, verdict != "not audited", verdict,
                    json.TryGetProperty("audit_detail", out var detail) ? detail.GetString() ?? audit : audit, TimeSpan.FromMilliseconds(json.GetProperty("elapsed_ms").GetDouble()), []);
                reports.Add(report);
                onReport(report);
            }

            if (userExit != 0 && errors.Count == 0)
            {
                throw new InvalidOperationException($"the user process exited with {userExit}: {user.Tail()}");
            }

            if (errors.Count > 0)
            {
                throw new InvalidOperationException($"{errors.Count} of {plan.Requests} requests through the gateway failed; first: {errors[0]}");
            }

            var cpu = CpuOfRoles(serving.Select(s => (s.Name, s.Process)), gateway, dht);

            // The roles stop (nodes and validator on stdin close; the gateway is killed), then the chain is read.
            foreach (var (_, _, process) in serving)
            {
                process.CloseInput();
            }

            foreach (var (_, _, process) in serving)
            {
                await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }

            gateway.Kill();
            var after = await ReadChainAsync(lab, hosts, wiring, nodes.Select(n => n.Peer), cancellationToken);
            if (figures is not null)
            {
                await figures(new HostsRunFigures(before, after, cpuAtStart, cpu, userWall, [.. user.Stdout], wiring)); // the chain and the DHT's bootstrap peer still run
            }

            return Summarize(nodes, reports, before, after);
        }
        finally
        {
            foreach (var process in started)
            {
                process.Dispose(); // the lab kills what is still running when it is disposed
            }
        }
    }

    private static Dictionary<string, TimeSpan> CpuOfRoles(IEnumerable<(string Name, LabProcess Process)> serving, LabProcess gateway, LabProcess dht)
    {
        var cpu = new Dictionary<string, TimeSpan>();
        foreach (var (name, process) in serving.Append(("gateway", gateway)).Append(("bootstrap", dht)))
        {
            cpu[name] = CpuOf(process);
        }

        return cpu;
    }

    private static TimeSpan CpuOf(LabProcess process)
    {
        try
        {
            return process.Process.TotalProcessorTime; // ip netns exec replaces itself with poip: the same process
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero; // exited
        }
    }

    /// <summary><c>poip ledger show --chain … --json</c> on the user host: the chain's totals and these peers' accounts.</summary>
    internal static async Task<ChainState> ReadChainAsync(HostLab lab, NamespacePlacement hosts, DhtChainWiring wiring, IEnumerable<PeerId> peers, CancellationToken cancellationToken)
    {
        using var show = lab.StartPoip(hosts.HostOf("user"), ["ledger", "show", "--chain", wiring.ChainUrl, "--deployment", wiring.DeploymentOf("user"), "--json", .. peers.SelectMany(p => (string[])["--peer", p.ToString()])]);
        int exit = await show.WaitForExitAsync(TimeSpan.FromMinutes(2));
        cancellationToken.ThrowIfCancellationRequested();
        string? line = show.Stdout.LastOrDefault(l => l.StartsWith('{'));
        if (exit is not (0 or 1) || line is null)
        {
            throw new InvalidOperationException($"reading the chain failed (exit {exit}): {show.Tail()}");
        }

        return ChainState.Parse(line);
    }

    private static NetworkSummary Summarize(List<(string Name, bool Cheats, PeerId Peer)> nodes, List<RequestReport> reports, ChainState before, ChainState after)
    {
        var reputation = new ReputationBook();
        int firstFraud = 0;
        var firstFraudAt = TimeSpan.Zero;
        var elapsed = TimeSpan.Zero;
        foreach (var report in reports)
        {
            elapsed += report.Elapsed;
            var peer = nodes.Single(n => n.Name == report.Node).Peer;
            reputation.Record(peer, ReputationEvent.RequestCompleted);
            if (report.Audited)
            {
                reputation.Record(peer, report.Verdict == "Fraud" ? ReputationEvent.FraudProven : ReputationEvent.AuditPassed);
            }

            if (report.Verdict == "Fraud" && firstFraud == 0)
            {
                firstFraud = report.Index;
                firstFraudAt = elapsed;
            }
        }

        var nodeReports = nodes.Select(n =>
        {
            var mine = reports.Where(r => r.Node == n.Name).ToList();
            var (balanceBefore, stakeBefore) = before.Accounts[n.Peer];
            var (balanceAfter, stakeAfter) = after.Accounts[n.Peer];
            return new NodeReport(n.Name, n.Peer, n.Cheats, mine.Count, mine.Count(r => r.Audited), mine.Count(r => r.Verdict == "Fraud"), balanceAfter - balanceBefore, stakeBefore, stakeAfter, reputation.GetScore(n.Peer));
        }).ToList();

        // Nodes claim their payments themselves once the chain's dispute window has passed (persisted claims); the demo does not wait for it.
        return new NetworkSummary(nodeReports, reports.Count, reports.Count(r => r.Audited), 0, reports.Count(r => r.Verdict == "Fraud"), after.Totals, after.ContractHoldsSupply, firstFraud, elapsed, 0, [], firstFraudAt);
    }

    /// <summary>What a run measured beside its summary (the <c>network</c> benchmark reads it).</summary>
    /// <param name="Before">The chain before the first request.</param>
    /// <param name="After">The chain after the roles stopped.</param>
    /// <param name="CpuAtStart">CPU time per role process (nodes, validator, gateway, bootstrap) once every role serves, just before the first request: its start-up.</param>
    /// <param name="Cpu">CPU time per role process just before the roles stop.</param>
    /// <param name="UserWall">Wall time of the user's process (all its requests, audit waits included).</param>
    /// <param name="UserLines">The user's JSON lines (one per request, then the summary).</param>
    /// <param name="Wiring">The run's wiring (chain URL, DHT bootstrap).</param>
    internal sealed record HostsRunFigures(ChainState Before, ChainState After, IReadOnlyDictionary<string, TimeSpan> CpuAtStart, IReadOnlyDictionary<string, TimeSpan> Cpu, TimeSpan UserWall, IReadOnlyList<string> UserLines, DhtChainWiring Wiring);

    /// <summary>What <c>poip ledger show --chain --json</c> printed: totals, the contract check, and per peer its balance and stake (bonded + unbonding).</summary>
    internal sealed record ChainState(EconomicTotals Totals, bool ContractHoldsSupply, long Block, IReadOnlyDictionary<PeerId, (TokenAmount Balance, TokenAmount Stake)> Accounts)
    {
        public static ChainState Parse(string line)
        {
            var json = JsonDocument.Parse(line).RootElement;
            TokenAmount Amount(JsonElement e, string name) => TokenAmount.ParseTokens(e.GetProperty(name).GetString()!);
            var totals = new EconomicTotals(Amount(json, "supply"), Amount(json, "balances"), Amount(json, "bonded"), Amount(json, "unbonding"), Amount(json, "escrowed"), Amount(json, "public_fund"), Amount(json, "burned"));
            var accounts = json.GetProperty("accounts").EnumerateArray().ToDictionary(
                a => PeerId.Parse(a.GetProperty("peer_id").GetString()!),
                a => (Amount(a, "balance"), Amount(a, "bonded") + Amount(a, "unbonding")));
            return new ChainState(totals, json.GetProperty("contract_holds_supply").GetBoolean(), json.GetProperty("block").GetInt64(), accounts);
        }
    }
}
