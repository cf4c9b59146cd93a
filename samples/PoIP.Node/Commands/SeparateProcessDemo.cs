using System.Diagnostics;
using System.Text.Json;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;
using PoIP.Economics.Reputation;
using PoIP.Testing.LocalNetwork;
using PoIP.Network.Addressing;

namespace PoIP.Node.Commands;

/// <summary>
/// <c>poip demo --separate-processes</c> and <c>--hosts</c>: the demo network with every role in its own
/// OS process (placed by an <see cref="IRolePlacement"/>: on this host, or each in its own network
/// namespace; each with its own folder and key file), started as this same executable (<c>poip node run</c>, <c>poip validator run</c>, <c>poip client
/// ask --json</c>) over one shared SQLite ledger. This process only creates the ledger (genesis, before
/// any child opens it), reads the children's output, and at the end settles the payments past the
/// dispute window (it opens the ledger with a clock moved forward, as the in-process demo does) and
/// builds the same summary.
/// </summary>
internal static class SeparateProcessDemo
{
    public static async Task<NetworkSummary> RunAsync(DemoSettings settings, DemoPlan plan, string model, string data, IReadOnlyList<string> prompts, Action<RequestReport> onReport, IRolePlacement placement, CancellationToken cancellationToken)
    {
        string ledgerPath = Path.Combine(data, "ledger.db");
        var parameters = EconomicParameters.Default with { DisputeWindow = TimeSpan.FromMinutes(1), MinimumStake = TokenAmount.FromTokens(100) };
        using (EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ledgerPath, InitialParameters = parameters }))
        {
            // genesis written once, before any child process opens it
        }

        var wiring = WiringFor(ledgerPath);
        string max = settings.MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var children = new List<Child>();
        try
        {
            var starting = new List<Task<Child>>();
            for (int i = 0; i < settings.Nodes; i++)
            {
                bool cheats = settings.CheatKind != CheatKind.None && i == settings.Nodes - 1;
                string role = $"node-{i + 1}";
                List<string> args = ["node", "run", .. wiring.Settlement(role), .. wiring.Announce(role), "--key", KeyOf(placement, role), "--listen", placement.ListenAddressOf(role), "--stake", "200", "--model", model, "--max-tokens", max, "--threads", "1", "--stop-on-stdin-close"];
                if (cheats)
                {
                    args.AddRange(["--cheat", settings.Cheat]);
                }

                starting.Add(Child.StartServerAsync($"{role}{(cheats ? " (cheats)" : string.Empty)}", cheats, placement.Start(role, args), cancellationToken));
            }

            starting.Add(Child.StartServerAsync("validator", false, placement.Start("validator", ["validator", "run", .. wiring.Settlement("validator"), .. wiring.Announce("validator"), "--key", KeyOf(placement, "validator"), "--listen", placement.ListenAddressOf("validator"), "--audit-p", plan.AuditProbability.ToString("R", System.Globalization.CultureInfo.InvariantCulture), "--model", model, "--threads", "1", "--stop-on-stdin-close"]), cancellationToken));
            foreach (var task in starting)
            {
                try
                {
                    children.Add(await task);
                }
                catch (InvalidOperationException)
                {
                    children.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).Except(children));
                    throw;
                }
            }

            var nodes = children.Where(c => c.Name.StartsWith("node", StringComparison.Ordinal)).ToList();
            var validator = children.Single(c => c.Name == "validator");
            var before = new Dictionary<PeerId, (TokenAmount Balance, TokenAmount Stake)>();
            using (var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ledgerPath }))
            {
                foreach (var node in nodes)
                {
                    before[node.PeerId] = (await ledger.GetBalanceAsync(node.PeerId, cancellationToken), (await ledger.GetStakeAsync(node.PeerId, cancellationToken)).Bonded);
                }
            }

            List<string> clientArgs = ["client", "ask", .. wiring.Settlement("client"), .. wiring.Discovery(nodes.Select(n => n.Address), [validator.Address]), "--key", KeyOf(placement, "client"), "--model", model, "--max-tokens", max, "--seed", settings.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--repeat", plan.Requests.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json", "--selection", settings.Selection];
            clientArgs.AddRange(prompts);
            var answers = new List<JsonElement>();
            var escrows = new List<RequestId>();
            var reports = new List<RequestReport>();
            using (var client = Child.Start("client", false, placement.Start("client", clientArgs), stdinOpen: false))
            {
                while (await client.Process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
                {
                    var json = JsonDocument.Parse(line).RootElement.Clone();
                    if (json.TryGetProperty("opened_escrows", out var opened))
                    {
                        escrows.AddRange(opened.EnumerateArray().Select(e => new RequestId(Sha256Digest.ParseHex(e.GetString()!))));
                        continue;
                    }

                    if (json.TryGetProperty("error", out var error))
                    {
                        throw new InvalidOperationException("the client process failed a request: " + error.GetString());
                    }

                    answers.Add(json);
                    var nodeId = PeerId.Parse(json.GetProperty("node").GetString()!);
                    var report = new RequestReport(
                        answers.Count,
                        nodes.Single(n => n.PeerId == nodeId).Name,
                        json.GetProperty("text").GetString()!,
                        json.GetProperty("audit_selected").GetBoolean(),
                        json.GetProperty("audit_selected").GetBoolean() ? json.GetProperty("verdict").GetString()! : "not audited",
                        json.GetProperty("detail").GetString()!,
                        TimeSpan.FromMilliseconds(json.GetProperty("elapsed_ms").GetDouble()),
                        [.. json.GetProperty("failed_attempts").EnumerateArray().Select(e => e.GetString()!)]);
                    reports.Add(report);
                    onReport(report);
                }

                await client.Process.WaitForExitAsync(cancellationToken);
                if (client.Process.ExitCode != 0)
                {
                    throw new InvalidOperationException($"the client process exited with {client.Process.ExitCode}: {client.Errors}");
                }
            }

            await StopAllAsync(children);
            return await SummarizeAsync(ledgerPath, parameters, nodes, before, reports, answers, escrows, cancellationToken);
        }
        finally
        {
            await StopAllAsync(children);
            foreach (var child in children)
            {
                child.Dispose();
            }
        }
    }

    /// <summary>The one place that decides how roles find each other and settle (the DHT and chain wiring will replace this).</summary>
#pragma warning disable CA1859 // The interface is the point: the DHT/chain wiring replaces the shared-ledger one here.
    private static IRoleWiring WiringFor(string ledgerPath) => new SharedLedgerWiring(ledgerPath);
#pragma warning restore CA1859

    private static string KeyOf(IRolePlacement placement, string role) => Path.Combine(placement.FolderOf(role), "identity.key");

    private static async Task StopAllAsync(List<Child> children)
    {
        foreach (var child in children)
        {
            child.CloseInput();
        }

        foreach (var child in children)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await child.Process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                child.Process.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<NetworkSummary> SummarizeAsync(string ledgerPath, EconomicParameters parameters, List<Child> nodes, Dictionary<PeerId, (TokenAmount Balance, TokenAmount Stake)> before, List<RequestReport> reports, List<JsonElement> answers, List<RequestId> escrows, CancellationToken cancellationToken)
    {
        var clock = new ForwardClock();
        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ledgerPath, TimeProvider = clock });
        clock.Advance(parameters.DisputeWindow + TimeSpan.FromSeconds(1));
        int settled = 0;
        foreach (var (report, json) in reports.Zip(answers))
        {
            if (report.Verdict == "Fraud")
            {
                continue; // the validator refunded it when it slashed
            }

            // The client printed both signed envelopes: the ledger settles only against the node's receipt.
            var request = SignedMessage.Open<InferenceRequest>(Convert.FromBase64String(json.GetProperty("request_envelope").GetString()!));
            var receipt = SignedMessage.Open<InferenceReceipt>(Convert.FromBase64String(json.GetProperty("receipt_envelope").GetString()!));
            settled += (await ledger.SettleEscrowAsync(OperationId.Derive("escrow-settle", request.Hash.ToArray()), request, receipt, cancellationToken)).IsApplied ? 1 : 0;
        }

        clock.Advance(parameters.DisputeWindow);
        int refunded = 0;
        foreach (var id in escrows)
        {
            var escrow = await ledger.GetEscrowAsync(id, cancellationToken);
            if (escrow is { State: EscrowState.Open })
            {
                refunded += (await ledger.RefundEscrowAsync(OperationId.Derive("escrow-refund-abandoned", id.Digest.ToArray()), id, cancellationToken)).IsApplied ? 1 : 0;
            }
            else if (escrow is { State: EscrowState.Refunded })
            {
                refunded++;
            }
        }

        var reputation = new ReputationBook();
        int firstFraud = 0;
        var firstFraudAt = TimeSpan.Zero;
        var elapsedSoFar = TimeSpan.Zero;
        var nodeReports = new List<NodeReport>();
        foreach (var report in reports)
        {
            elapsedSoFar += report.Elapsed;
            var node = nodes.Single(n => n.Name == report.Node);
            reputation.Record(node.PeerId, ReputationEvent.RequestCompleted);
            if (report.Verdict is "Valid" or "Fraud" or "Inconclusive")
            {
                reputation.Record(node.PeerId, report.Verdict == "Fraud" ? ReputationEvent.FraudProven : ReputationEvent.AuditPassed);
            }

            if (report.Verdict == "Fraud" && firstFraud == 0)
            {
                firstFraud = report.Index;
                firstFraudAt = elapsedSoFar;
            }
        }

        foreach (var node in nodes)
        {
            var mine = reports.Where(r => r.Node == node.Name).ToList();
            var stake = await ledger.GetStakeAsync(node.PeerId, cancellationToken);
            var balance = await ledger.GetBalanceAsync(node.PeerId, cancellationToken);
            nodeReports.Add(new NodeReport(node.Name, node.PeerId, node.Cheats, mine.Count, mine.Count(r => r.Verdict is "Valid" or "Fraud" or "Inconclusive"), mine.Count(r => r.Verdict == "Fraud"),
                balance - before[node.PeerId].Balance, before[node.PeerId].Stake, stake.Bonded + stake.Unbonding, reputation.GetScore(node.PeerId)));
        }

        var totals = await ledger.GetTotalsAsync(cancellationToken);
        var journal = await ledger.VerifyJournalAsync(cancellationToken);
        var elapsed = reports.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.Elapsed);
        return new NetworkSummary(nodeReports, reports.Count, reports.Count(r => r.Verdict is "Valid" or "Fraud" or "Inconclusive"), settled, refunded, totals, journal.Matches, firstFraud, elapsed,
            escrows.Count - reports.Count, [.. reports.SelectMany(r => r.FailedAttempts)], firstFraudAt);
    }

    /// <summary>The system clock moved forward: settles past the dispute window without waiting for it.</summary>
    private sealed class ForwardClock : TimeProvider
    {
        private TimeSpan _offset;

        public void Advance(TimeSpan by) => _offset += by;

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + _offset;
    }

    /// <summary>One role's process: the same executable as this one.</summary>
    private sealed class Child : IDisposable
    {
        private readonly System.Text.StringBuilder _errors = new();

        private Child(string name, bool cheats, Process process)
        {
            Name = name;
            Cheats = cheats;
            Process = process;
        }

        public string Name { get; }

        public Process Process { get; }

        public bool Cheats { get; }

        public Multiaddr Address { get; private set; } = null!;

        public PeerId PeerId => Address.PeerId!.Value;

        public string Errors
        {
            get
            {
                lock (_errors)
                {
                    return _errors.ToString();
                }
            }
        }

        public static Child Start(string name, bool cheats, Process process, bool stdinOpen)
        {
            var child = new Child(name, cheats, process);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (child._errors)
                    {
                        if (child._errors.Length < 64 * 1024)
                        {
                            child._errors.AppendLine(e.Data);
                        }
                    }
                }
            };
            process.BeginErrorReadLine();
            if (!stdinOpen)
            {
                process.StandardInput.Close();
            }

            return child;
        }

        /// <summary>Starts a server role and waits for its first output line: its full multiaddr (printed once it serves).</summary>
        public static async Task<Child> StartServerAsync(string name, bool cheats, Process process, CancellationToken cancellationToken)
        {
            var child = Start(name, cheats, process, stdinOpen: true);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            string? first = null;
            try
            {
                first = await child.Process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // timed out: reported below
            }

            if (first is null || !Multiaddr.TryParse(first, out var address) || address!.PeerId is null)
            {
                child.Process.Kill(entireProcessTree: true);
                await child.Process.WaitForExitAsync(CancellationToken.None);
                throw new InvalidOperationException($"{name} did not start: {child.Errors}");
            }

            child.Address = address;
            _ = DrainAsync(child.Process.StandardOutput);
            return child;
        }

        public void CloseInput()
        {
            try
            {
                if (!Process.HasExited)
                {
                    Process.StandardInput.Close();
                }
            }
            catch (IOException)
            {
                // already gone
            }
        }

        public void Dispose() => Process.Dispose();

        private static async Task DrainAsync(StreamReader reader)
        {
            while (await reader.ReadLineAsync() is not null)
            {
            }
        }
    }
}
