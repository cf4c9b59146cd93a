using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PoIP.Benchmarks.Inference;
using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;
using PoIP.Node.Commands;
using PoIP.Node.Hosts;

namespace PoIP.Benchmarks.Network;

/// <summary>
/// The whole network end to end: the <c>poip demo --hosts</c> wiring (chain host, DHT bootstrap host, nodes and
/// validator found through the DHT and settling on the chain, gateway host, a user host asking through the gateway's
/// HTTP API) run twice in the same run: every role on its own namespace with a 20 ms round trip between hosts, then
/// the same roles in one namespace (one host: loopback). Requests/s and p50/p99 latency of the user's requests
/// (sequential client; per-request times exclude the client's wait for the audit verdict), <c>ratio</c> = namespaced
/// ÷ one-host requests/s. Trust-layer cost per request, from the namespaced run: DHT transaction records and their
/// bytes (read back with <c>poip dht records</c> for a sample of requests), chain transactions and gas (the blocks
/// Anvil mined during the requests: one transaction a block), audits (count, validator CPU), next to the node CPU
/// per request and bare inference (the same model, prompts and token count through the engine in this process).
/// Needs root (network namespaces): without it, says why and exits 2.
/// Usage: <c>network [--requests N] [--max-tokens N] [--rtt-ms MS]</c>.
/// </summary>
internal sealed class NetworkBenchmark : IMacroBenchmark
{
    private const int RecordSamples = 3;

    public string Name => "network";

    public string Description => "demo --hosts wiring at 20 ms RTT vs one host: req/s, p50/p99, trust-layer cost per request (needs root)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int requests = 24, maxTokens = 24, rttMs = 20;
        for (int i = 0; i < args.Length; i++)
        {
            bool ok = i + 1 < args.Length;
            switch (args[i])
            {
                case "--requests": ok = ok && int.TryParse(args[++i], CultureInfo.InvariantCulture, out requests) && requests is >= 3 and <= 200; break;
                case "--max-tokens": ok = ok && int.TryParse(args[++i], CultureInfo.InvariantCulture, out maxTokens) && maxTokens is >= 1 and <= 256; break;
                case "--rtt-ms": ok = ok && int.TryParse(args[++i], CultureInfo.InvariantCulture, out rttMs) && rttMs is >= 0 and <= 2000 && rttMs % 4 == 0; break;
                default: ok = false; break;
            }

            if (!ok)
            {
                await Console.Error.WriteLineAsync("usage: network [--requests 3-200] [--max-tokens 1-256] [--rtt-ms 0-2000, a multiple of 4]");
                return 2;
            }
        }

        if (HostLab.Unsupported() is { } why)
        {
            await Console.Error.WriteLineAsync($"network benchmark {why}.");
            return 2;
        }

        string? model = EngineBenchmarkPaths.Stories260K();
        if (model is null || !File.Exists(model))
        {
            await Console.Error.WriteLineAsync("model not found: ../shared/models/stories260K.gguf beside the repository root.");
            return 2;
        }

        var settings = new DemoSettings { Hosts = true, Requests = requests, MaxTokens = maxTokens, Cheat = "none", LinkDelayMs = rttMs / 4, Model = model };
        var plan = settings.Plan;

        // A packet from host A to B crosses A's link and B's link: one-way 2 x delay, round trip 4 x delay.
        var spread = await RunOnceAsync(settings, plan, model, oneHost: false, cancellationToken);
        var local = await RunOnceAsync(settings, plan, model, oneHost: true, cancellationToken);
        double bareMs = await BareInferenceMsAsync(model, maxTokens, settings.Seed, cancellationToken);

        var f = spread.Figures;
        int answered = spread.Latencies.Count;
        long blocks = f.After.Block - f.Before.Block;
        // Per request: what each role's process spent while the requests ran (end minus the snapshot taken once every
        // role served); its start-up (model load, JIT, DHT join, chain set-up) is reported apart.
        double Serving(string role) => (f.Cpu[role] - f.CpuAtStart[role]).TotalMilliseconds;
        var nodeRoles = f.Cpu.Keys.Where(k => k.StartsWith("node-", StringComparison.Ordinal)).ToList();
        double nodeCpu = nodeRoles.Sum(Serving);
        BenchOutput.Print(new Dictionary<string, object>
        {
            ["name"] = "network",
            ["wiring"] = NetworkHostsDemo.Wiring,
            ["requests"] = requests,
            ["max_tokens"] = maxTokens,
            ["nodes"] = settings.Nodes,
            ["audit_p"] = plan.AuditProbability,
            ["rtt_ms"] = rttMs,
            ["hosts_rps"] = BenchOutput.Round(spread.Rps),
            ["hosts_p50_ms"] = BenchOutput.Round(Percentile(spread.Latencies, 0.50), 1),
            ["hosts_p99_ms"] = BenchOutput.Round(Percentile(spread.Latencies, 0.99), 1),
            ["one_host_rps"] = BenchOutput.Round(local.Rps),
            ["one_host_p50_ms"] = BenchOutput.Round(Percentile(local.Latencies, 0.50), 1),
            ["one_host_p99_ms"] = BenchOutput.Round(Percentile(local.Latencies, 0.99), 1),
            ["ratio"] = BenchOutput.Round(spread.Rps / local.Rps),
            ["bare_inference_ms"] = BenchOutput.Round(bareMs, 2),
            ["node_cpu_ms_per_request"] = BenchOutput.Round(nodeCpu / answered, 1),
            ["node_startup_cpu_ms"] = BenchOutput.Round(nodeRoles.Average(r => f.CpuAtStart[r].TotalMilliseconds), 0),
            ["gateway_cpu_ms_per_request"] = BenchOutput.Round(Serving("gateway") / answered, 1),
            ["gateway_startup_cpu_ms"] = BenchOutput.Round(f.CpuAtStart["gateway"].TotalMilliseconds, 0),
            ["bootstrap_cpu_ms_per_request"] = BenchOutput.Round(Serving("bootstrap") / answered, 1),
            ["dht_records_per_request"] = BenchOutput.Round(spread.RecordsPerRequest, 2),
            ["dht_record_bytes_per_request"] = BenchOutput.Round(spread.RecordBytesPerRequest, 0),
            ["chain_tx_per_request"] = BenchOutput.Round((double)blocks / answered, 2),
            ["chain_gas_per_request"] = BenchOutput.Round((double)spread.Gas / answered, 0),
            ["audits_per_request"] = BenchOutput.Round((double)spread.Audits / answered, 2),
            ["validator_cpu_ms_per_audit"] = BenchOutput.Round(spread.Audits == 0 ? 0 : Serving("validator") / spread.Audits, 1),
            ["load_average"] = LoadAverage(),
        });
        return 0;
    }

    private static async Task<RunResult> RunOnceAsync(DemoSettings settings, DemoPlan plan, string model, bool oneHost, CancellationToken cancellationToken)
    {
        await using var lab = HostLab.Create();
        var hosts = new NamespacePlacement(lab, new LinkSettings(TimeSpan.FromMilliseconds(settings.LinkDelayMs)), oneHost);
        RunResult? result = null;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lab.Stopping);
        await NetworkHostsDemo.RunAsync(settings, plan, model, DemoCommand.Prompts, _ => { }, lab, hosts, line => Console.Error.WriteLine($"[{(oneHost ? "one host" : "hosts")}] {line}"), linked.Token,
            async f => result = await MeasureAsync(lab, hosts, f, trustLayers: !oneHost));
        return result ?? throw new InvalidOperationException("the run reported no figures.");
    }

    /// <summary>The user's latencies; with <paramref name="trustLayers"/>, the DHT records of a few requests and the gas of the blocks mined during the requests (while the chain and the bootstrap peer still run).</summary>
    private static async Task<RunResult> MeasureAsync(HostLab lab, NamespacePlacement hosts, NetworkHostsDemo.HostsRunFigures f, bool trustLayers)
    {
        var answers = f.UserLines.Select(l => JsonDocument.Parse(l).RootElement).Where(j => j.TryGetProperty("index", out _) && !j.TryGetProperty("error", out _)).ToList();
        var latencies = answers.Select(j => j.GetProperty("elapsed_ms").GetDouble()).ToList();
        int audits = answers.Count(j => j.GetProperty("audit").GetString() is "valid" or "fraud" or "inconclusive");
        double rps = latencies.Count / (latencies.Sum() / 1000);
        if (!trustLayers)
        {
            return new RunResult(f, latencies, rps, audits, 0, 0, 0);
        }

        var ids = answers.Select(j => j.GetProperty("request_id").GetString()).OfType<string>().Take(RecordSamples).ToList();
        int records = 0, read = 0;
        long bytes = 0;
        var user = hosts.HostOf("user");
        foreach (string id in ids)
        {
            using var show = lab.StartPoip(user, ["dht", "records", id, "--bootstrap", f.Wiring.Bootstrap, "--json"]);
            await show.WaitForExitAsync(TimeSpan.FromSeconds(60));
            string? line = show.Stdout.LastOrDefault(l => l.StartsWith('{'));
            if (line is null)
            {
                await Console.Error.WriteLineAsync($"dht records {id}: {show.Tail()}");
                continue;
            }

            read++;
            foreach (var record in JsonDocument.Parse(line).RootElement.GetProperty("records").EnumerateArray())
            {
                records++;
                bytes += record.GetProperty("size").GetInt64();
            }
        }

        long gas = await GasAsync(lab, user, f.Wiring.ChainUrl, f.Before.Block + 1, f.After.Block);
        return new RunResult(f, latencies, rps, audits, read == 0 ? -1 : (double)records / read, read == 0 ? -1 : (double)bytes / read, gas);
    }

    /// <summary>Sum of <c>gasUsed</c> of blocks <paramref name="from"/>..<paramref name="to"/> (one JSON-RPC batch with curl from the user host).</summary>
    private static async Task<long> GasAsync(HostLab lab, LabHost host, string chainUrl, long from, long to)
    {
        if (to < from)
        {
            return 0;
        }

        var batch = new StringBuilder("[");
        for (long b = from; b <= to && b < from + 2000; b++)
        {
            batch.Append(CultureInfo.InvariantCulture, $"{(b == from ? string.Empty : ",")}{{\"jsonrpc\":\"2.0\",\"id\":{b},\"method\":\"eth_getBlockByNumber\",\"params\":[\"0x{b:x}\",false]}}");
        }

        batch.Append(']');
        string body = Path.Combine(host.Directory, "blocks.json");
        await File.WriteAllTextAsync(body, batch.ToString());
        using var curl = lab.Start(host, "curl", ["-s", "--max-time", "30", "-H", "Content-Type: application/json", "--data-binary", "@" + body, chainUrl]);
        await curl.WaitForExitAsync(TimeSpan.FromSeconds(40));
        string json = string.Concat(curl.Stdout);
        if (!json.StartsWith('['))
        {
            await Console.Error.WriteLineAsync($"eth_getBlockByNumber batch: {curl.Tail()}");
            return -1;
        }

        long gas = 0;
        foreach (var reply in JsonDocument.Parse(json).RootElement.EnumerateArray())
        {
            string hex = reply.GetProperty("result").GetProperty("gasUsed").GetString()!;
            gas += long.Parse(hex.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        return gas;
    }

    /// <summary>Median ms of one answer of the demo's prompts through the engine in this process (1 thread, as the nodes run).</summary>
    private static async Task<double> BareInferenceMsAsync(string model, int maxTokens, ulong seed, CancellationToken cancellationToken)
    {
        NativeBackend.EnsureLoaded(LlamaCpuVariant.Auto);
        await using var engine = await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = model, Threads = 1, MaxOutputTokens = maxTokens }, cancellationToken);
        var times = new List<double>();
        for (int i = 0; i < 2 * DemoCommand.Prompts.Length; i++)
        {
            var prompt = engine.Tokenize(DemoCommand.Prompts[i % DemoCommand.Prompts.Length], addBeginOfSequence: true);
            var request = new GenerationRequest(prompt, SamplingParameters.Greedy, seed + (ulong)i, maxTokens);
            long started = Stopwatch.GetTimestamp();
            await foreach (var _ in engine.GenerateAsync(request, cancellationToken: cancellationToken))
            {
            }

            if (i >= DemoCommand.Prompts.Length)
            {
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds); // the first round warms up
            }
        }

        return Percentile(times, 0.5);
    }

    private static double Percentile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
    }

    private static double LoadAverage()
    {
        string text = File.ReadAllText("/proc/loadavg");
        return double.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
    }

    private sealed record RunResult(NetworkHostsDemo.HostsRunFigures Figures, IReadOnlyList<double> Latencies, double Rps, int Audits, double RecordsPerRequest, double RecordBytesPerRequest, long Gas);
}
