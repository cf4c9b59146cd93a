using System.Globalization;
using PoIP.Benchmarks.Inference;
using PoIP.Hosting.Client;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Benchmarks.Routing;

/// <summary>
/// <c>routing</c>: competition as the load balancer. A 5-node loopback network on stories260K (node-1
/// waits a real delay before its first token, node-5 cheats and is caught by a validator auditing every
/// answer, three honest nodes) is asked the same sequential requests under round robin (the baseline),
/// competition, and competition with hedging (<see cref="PoIPClientOptions.HedgeAfter"/>), each on a
/// fresh network in the same run: share of requests per node and client latency p50/p99 (the answer, not
/// the audit, which runs after it). <c>ratio</c> = round-robin p99 ÷ competition p99.
/// Arguments: <c>[requests] [slow-delay-ms] [hedge-after-ms] [max-tokens]</c> (default 60, 100, 30, 16).
/// </summary>
internal sealed class RoutingBenchmark : IMacroBenchmark
{
    public string Name => "routing";

    public string Description => "competition vs round robin (slow node, cheater, 3 honest): share per node, latency p50/p99, with hedging";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 60;
        var slowDelay = TimeSpan.FromMilliseconds(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100);
        var hedgeAfter = TimeSpan.FromMilliseconds(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 30);
        int maxTokens = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 16;
        string model = EngineBenchmarkPaths.Stories260K() ?? throw new InvalidOperationException("stories260K.gguf not found (../shared/models).");

        var figures = new Dictionary<string, object>
        {
            ["benchmark"] = "routing",
            ["requests"] = requests,
            ["nodes"] = 5,
            ["slow_node_delay_ms"] = slowDelay.TotalMilliseconds,
            ["hedge_after_ms"] = hedgeAfter.TotalMilliseconds,
            ["max_tokens"] = maxTokens,
        };
        var roundRobin = await RunAsync(model, NodeSelectionPolicy.RoundRobin, null, requests, slowDelay, maxTokens, cancellationToken);
        var competition = await RunAsync(model, NodeSelectionPolicy.Competition, null, requests, slowDelay, maxTokens, cancellationToken);
        var hedged = await RunAsync(model, NodeSelectionPolicy.Competition, hedgeAfter, requests, slowDelay, maxTokens, cancellationToken);
        figures["round_robin"] = roundRobin.ToFigures();
        figures["competition"] = competition.ToFigures();
        figures["competition_hedged"] = hedged.ToFigures();
        figures["ratio"] = BenchOutput.Round(roundRobin.P99.TotalMilliseconds / competition.P99.TotalMilliseconds, 3);
        BenchOutput.Print(figures);
        return 0;
    }

    private static async Task<Run> RunAsync(string model, NodeSelectionPolicy policy, TimeSpan? hedgeAfter, int requests, TimeSpan slowDelay, int maxTokens, CancellationToken cancellationToken)
    {
        string data = Directory.CreateTempSubdirectory("poip-bench-routing-").FullName;
        try
        {
            await using var network = await LocalNetwork.StartAsync(
                new LocalNetworkOptions
                {
                    ModelPath = model,
                    DataDirectory = data,
                    Nodes = 5,
                    Cheat = CheatKind.AlterOutput,
                    AuditProbability = 1.0,
                    MaxTokens = maxTokens,
                    Selection = policy,
                    SelectionSeed = 17,
                    HedgeAfter = hedgeAfter,
                    WrapEngine = (i, engine) => i == 0 ? new SlowStartEngine(engine, ct => Task.Delay(slowDelay, ct)) : engine,
                },
                cancellationToken);
            var shares = network.Nodes.ToDictionary(n => n.Name, _ => 0);
            var latencies = new List<TimeSpan>(requests);
            int failedAttempts = 0;
            for (int i = 0; i < requests; i++)
            {
                var report = await network.AskAsync("Once upon a time", (ulong)i, cancellationToken);
                shares[report.Node]++;
                latencies.Add(report.Elapsed);
                failedAttempts += report.FailedAttempts.Count;
            }

            latencies.Sort();
            return new Run(shares, latencies[(int)Math.Floor(0.5 * (latencies.Count - 1))], latencies[(int)Math.Ceiling(0.99 * (latencies.Count - 1))], failedAttempts);
        }
        finally
        {
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
                // the OS cleans the temp folder
            }
        }
    }

    private sealed record Run(Dictionary<string, int> Shares, TimeSpan P50, TimeSpan P99, int FailedAttempts)
    {
        public Dictionary<string, object> ToFigures() => new()
        {
            ["p50_ms"] = BenchOutput.Round(P50.TotalMilliseconds, 2),
            ["p99_ms"] = BenchOutput.Round(P99.TotalMilliseconds, 2),
            ["share"] = Shares.ToDictionary(kv => kv.Key, kv => (object)BenchOutput.Round((double)kv.Value / Shares.Values.Sum(), 3)),
            ["failed_attempts"] = FailedAttempts,
        };
    }
}
