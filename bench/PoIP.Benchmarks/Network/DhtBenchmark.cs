using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Identity;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using PoIP.Network.Kademlia.Wire;

namespace PoIP.Benchmarks.Network;

/// <summary>
/// The Kademlia code (routing table, disjoint-path lookups, handler, store) simulated over the in-memory
/// transport at N peers: hops, success, FIND_NODE calls and bytes per lookup; success with 20 % adversaries
/// answering only with each other, over d disjoint paths and with d = 1; record holders after a put and after
/// 24 h of churn (log-normal sessions: half leave within 2 h, 90 % within 12 h; each leaver replaced by a
/// joiner that bootstraps with the real code) with the real upkeep schedule (10-min refresh with ping-and-evict,
/// hourly replication by holders, 22 h republish). Plus the real stack on loopback:
/// lookup latency over 30 libp2p hosts. usage: dht [N,N,...] [--lookups L] [--records R] [--hours H] [--checkpoint FILE]
/// [--no-loopback] (default 1000,10000, 200 lookups, 30 records, 24 h; the "_24h" figures are after H hours when H is
/// not 24). With --checkpoint the churn is saved to FILE (FILE.nN for several sizes) after every simulated hour, and a
/// run given an existing FILE resumes from it: a 24-hour run at 10,000 peers can take several sittings. The
/// churn and upkeep are <c>KadChurnWorld</c>, shared with the bounded slice in the tests (<c>KadChurnSimulationTests</c>).
/// </summary>
internal sealed class DhtBenchmark : IMacroBenchmark
{
    public string Name => "dht";

    public string Description => "Kademlia simulation (1k/10k peers, churn, 20 % adversaries, d paths vs 1) and loopback lookup latency";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int[] sizes = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal)
            ? [.. args[0].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]
            : [1000, 10_000];
        int lookups = Option(args, "--lookups", 200);
        int records = Option(args, "--records", 30);
        int hours = Option(args, "--hours", 24);
        var figures = new Dictionary<string, object> { ["name"] = "dht", ["lookups"] = lookups, ["records"] = records, ["churn_hours"] = hours };
        foreach (int n in sizes)
        {
            string? checkpoint = OptionText(args, "--checkpoint") is { } c ? (sizes.Length > 1 ? $"{c}.n{n}" : c) : null;
            var r = await SimulateAsync(n, lookups, records, hours, checkpoint, cancellationToken);
            foreach (var (k, v) in r)
            {
                figures[$"n{n}_{k}"] = v;
            }
        }

        if (!args.Contains("--no-loopback"))
        {
            var (p50, p99, hosts) = await LoopbackLatencyAsync(30, Math.Min(lookups, 100), cancellationToken);
            figures["loopback_hosts"] = hosts;
            figures["loopback_lookup_ms_p50"] = BenchOutput.Round(p50);
            figures["loopback_lookup_ms_p99"] = BenchOutput.Round(p99);
        }

        figures["loadavg"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "";
        BenchOutput.Print(figures);
        return 0;
    }

    private static string? OptionText(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static KademliaOptions Options(int paths)
    {
        // The real schedule (the defaults): refresh and ping-and-evict every 10 min, holders replicate hourly, the
        // originator republishes at 22 h. The simulation calls the same methods the timers call (no timers run).
        var o = new KademliaOptions { RequestsPerSecond = 1e9, RequestBurst = int.MaxValue, DisjointPaths = paths };
        o.Namespaces.Add(new BenchNamespace());
        return o;
    }

    private static async Task<Dictionary<string, object>> SimulateAsync(int n, int lookups, int recordCount, int hours, string? checkpoint, CancellationToken cancellationToken)
    {
        var optionsD = Options(3);
        var step = optionsD.RefreshInterval;
        int steps = (int)(TimeSpan.FromHours(hours) / step);
        int stepsPerHour = (int)(TimeSpan.FromHours(1) / step);
        int republishAt = (int)(optionsD.RepublishInterval / step);
        double cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        long started = Stopwatch.GetTimestamp();
        KadChurnWorld world;
        ChurnRun run;
        if (checkpoint is not null && File.Exists(checkpoint))
        {
            (world, string json) = KadChurnCheckpoint.Read(checkpoint, optionsD);
            run = JsonSerializer.Deserialize<ChurnRun>(json) ?? throw new InvalidDataException($"{checkpoint} holds no run state");
            if (run.N != n || run.Lookups != lookups || run.Records != recordCount || run.Hours != hours)
            {
                throw new InvalidDataException($"{checkpoint} is a run of 'dht {run.N} --lookups {run.Lookups} --records {run.Records} --hours {run.Hours}': pass the same arguments, or another --checkpoint file");
            }

            run.Segments++;
            Console.Error.WriteLine($"dht n={n}: resumed at {run.Step * step.TotalHours:F1} h simulated from {checkpoint} ({world.Alive.Count} live)");
        }
        else
        {
            world = KadChurnWorld.Create(n, optionsD, 12345 + n);
            run = new ChurnRun { N = n, Lookups = lookups, Records = recordCount, Hours = hours, Segments = 1 };
            await BeforeChurnAsync(world, run, cancellationToken);
        }

        var publishers = run.Publishers.Select(id => world.Alive.Single(a => a.Self.ToString() == id)).ToList();
        for (int i = run.Step + 1; i <= steps; i++)
        {
            long requestsBefore = world.Net.Requests;
            run.Joined += await world.StepAsync(cancellationToken);
            run.UpkeepRequests += world.Net.Requests - requestsBefore;
            run.PeerSteps += world.Alive.Count;
            if (i == republishAt)
            {
                foreach (var p in publishers)
                {
                    await p.RepublishAsync(cancellationToken);
                }
            }

            run.Step = i;
            double cpu = run.CpuSeconds + Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpuAtStart;
            if (i % Math.Max(1, steps / 24) == 0)
            {
                Console.Error.WriteLine($"dht n={n}: {i * step.TotalHours:F1} h simulated, {world.Alive.Count} live, {run.UpkeepRequests} upkeep requests, cpu {cpu:F0} s");
            }

            if (checkpoint is not null && i % stepsPerHour == 0 && i < steps)
            {
                var saved = run with
                {
                    CpuSeconds = cpu,
                    WallSeconds = run.WallSeconds + Stopwatch.GetElapsedTime(started).TotalSeconds,
                };
                KadChurnCheckpoint.Write(checkpoint, world, JsonSerializer.Serialize(saved));
            }
        }

        var result = new Dictionary<string, object>(run.Results);
        result["maintenance_requests_per_peer_hour"] = BenchOutput.Round(run.UpkeepRequests / (run.PeerSteps * step.TotalHours), 1);
        var holdersAfterDay = run.Publishers.Select(id => (double)world.Holders(Encoding.ASCII.GetBytes($"/bench/{id}"))).ToList();
        result["churn_joined_24h"] = run.Joined;
        result["holders_after_24h_p50"] = Percentile(holdersAfterDay, 50);
        result["holders_after_24h_p5"] = Percentile(holdersAfterDay, 5);
        var (_, churnSuccess, churnCalls, _) = await world.LookupsAsync(world.Alive, lookups, cancellationToken);
        result["success_after_24h_churn"] = BenchOutput.Round(churnSuccess, 4);
        result["find_node_calls_after_24h_churn_mean"] = BenchOutput.Round(churnCalls.Average(), 1);
        result["find_node_calls_after_24h_churn_p99"] = Percentile(churnCalls, 99);
        result["sim_seconds"] = BenchOutput.Round(run.WallSeconds + Stopwatch.GetElapsedTime(started).TotalSeconds, 1);
        result["sim_cpu_seconds"] = BenchOutput.Round(run.CpuSeconds + Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpuAtStart, 1);
        result["sim_segments"] = run.Segments;
        world.Metrics.Dispose();
        return result;
    }

    /// <summary>The figures of the converged network (lookups, adversaries), then the records put by publishers that never leave.</summary>
    private static async Task BeforeChurnAsync(KadChurnWorld world, ChurnRun run, CancellationToken cancellationToken)
    {
        var rng = world.Rng;
        var result = run.Results;

        // Lookups in the converged network (no adversaries).
        var (hops, success, calls, bytes) = await world.LookupsAsync(world.Alive, run.Lookups, cancellationToken);
        result["hops_median"] = Percentile(hops, 50);
        result["hops_p90"] = Percentile(hops, 90);
        result["hops_p99"] = Percentile(hops, 99);
        result["success"] = BenchOutput.Round(success, 4);
        result["find_node_calls_per_lookup_mean"] = BenchOutput.Round(calls.Average(), 1);
        result["find_node_calls_per_lookup_p99"] = Percentile(calls, 99);
        result["bytes_per_lookup_mean"] = (long)bytes.Average();
        result["bytes_per_lookup_p99"] = Percentile(bytes, 99);

        // Adversaries: 20 % answer every lookup only with the adversaries closest to the target.
        var adversaries = world.Alive.Where(_ => rng.NextDouble() < 0.2).Select(a => a.Self).ToHashSet();
        var advPoints = adversaries.Select(a => (Peer: a, Id: KadId.FromKey(a.Bytes))).ToArray();
        world.Net.Interceptor = (to, from, request) =>
        {
            if (!adversaries.Contains(to) || request.Type != Message.Types.MessageType.FindNode)
            {
                return null;
            }

            var t = KadId.FromKey(request.Key.Span);
            var reply = new Message { Type = request.Type, Key = request.Key };
            foreach (var a in advPoints.OrderBy(a => a.Id.Xor(t)).Take(20))
            {
                reply.CloserPeers.Add(KadCodec.ToWire(a.Peer, [Multiaddr.Parse("/ip4/10.9.9.9/tcp/1")], connected: false));
            }

            return reply;
        };
        var honest = world.Alive.Where(a => !adversaries.Contains(a.Self)).ToList();
        var (_, advSuccess, advCalls, _) = await world.LookupsAsync(honest, run.Lookups, cancellationToken);
        SetPaths(world.Alive, 1);
        var (_, advSuccess1, _, _) = await world.LookupsAsync(honest, run.Lookups, cancellationToken);
        SetPaths(world.Alive, 3);
        world.Net.Interceptor = null;
        result["adversarial_fraction"] = BenchOutput.Round(adversaries.Count / (double)run.N, 3);
        result["adversarial_success"] = BenchOutput.Round(advSuccess, 4);
        result["adversarial_success_d1"] = BenchOutput.Round(advSuccess1, 4);
        result["adversarial_find_node_calls_mean"] = BenchOutput.Round(advCalls.Average(), 1);

        // Records: put by publishers that stay online; holders now, then after 24 h of churn with the 22 h republish.
        var publishers = Enumerable.Range(0, run.Records).Select(_ => world.Alive[rng.Next(world.Alive.Count)]).Distinct().ToList();
        var holdersAfterPut = new List<double>();
        foreach (var p in publishers)
        {
            world.Permanent.Add(p.Self);
            run.Publishers.Add(p.Self.ToString());
            var put = await p.PutValueAsync(Encoding.ASCII.GetBytes($"/bench/{p.Self}"), Encoding.ASCII.GetBytes("r1"), cancellationToken);
            holdersAfterPut.Add(put.Confirmed);
        }

        result["holders_after_put_p50"] = Percentile(holdersAfterPut, 50);
        result["holders_after_put_p5"] = Percentile(holdersAfterPut, 5);
    }

    /// <summary>A churn run's state between steps: what a checkpoint carries besides the world.</summary>
    private sealed record ChurnRun
    {
        public int N { get; init; }

        public int Lookups { get; init; }

        public int Records { get; init; }

        public int Hours { get; init; }

        public int Step { get; set; }

        public int Joined { get; set; }

        public long UpkeepRequests { get; set; }

        public double PeerSteps { get; set; }

        public double CpuSeconds { get; init; }

        public double WallSeconds { get; init; }

        public int Segments { get; set; }

        public List<string> Publishers { get; init; } = [];

        public Dictionary<string, object> Results { get; init; } = [];
    }

    private static void SetPaths(List<KadNode> nodes, int paths)
    {
        foreach (var node in nodes)
        {
            node.Options.DisjointPaths = paths;
        }
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        int i = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(i, 0, sorted.Count - 1)];
    }

    private static async Task<(double P50, double P99, int Hosts)> LoopbackLatencyAsync(int hosts, int lookups, CancellationToken cancellationToken)
    {
        var keys = new List<Ed25519KeyPair>();
        var libp2p = new List<Libp2pHost>();
        var dhts = new List<KademliaDht>();
        try
        {
            for (int i = 0; i < hosts; i++)
            {
                var key = Ed25519KeyPair.Generate();
                keys.Add(key);
                var ho = new Libp2pHostOptions { Key = key };
                ho.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
                var host = Libp2pHost.Create(ho);
                await host.StartAsync(cancellationToken);
                libp2p.Add(host);
                var o = new KademliaOptions { RefreshInterval = TimeSpan.Zero };
                if (i > 0)
                {
                    o.BootstrapPeers.Add(libp2p[0].ListenAddresses[0]);
                }

                var dht = KademliaDht.Create(host, o);
                await dht.StartAsync(cancellationToken);
                dhts.Add(dht);
            }

            foreach (var d in dhts)
            {
                await d.RefreshAsync(cancellationToken);
            }

            var rng = new Random(7);
            var ms = new List<double>();
            for (int i = 0; i < lookups; i++)
            {
                var source = dhts[rng.Next(hosts)];
                var target = dhts[rng.Next(hosts)];
                long start = Stopwatch.GetTimestamp();
                await source.Node.FindClosestAsync(target.LocalPeer.ToArray(), followUp: false, cancellationToken);
                ms.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            return (Percentile(ms, 50), Percentile(ms, 99), hosts);
        }
        finally
        {
            foreach (var d in dhts)
            {
                await d.DisposeAsync();
            }

            foreach (var h in libp2p)
            {
                await h.DisposeAsync();
            }

            foreach (var k in keys)
            {
                k.Dispose();
            }
        }
    }

    /// <summary>Any value starting with 'r' is valid; the longer wins.</summary>
    private sealed class BenchNamespace : IDhtRecordNamespace
    {
        public string Name => "bench";

        public DhtRecordVerdict Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, DateTimeOffset now) =>
            value.Length > 0 && value[0] == (byte)'r' ? DhtRecordVerdict.Valid : DhtRecordVerdict.Invalid("not r...");

        public int SelectBest(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values) => 0;

        public byte[]? Merge(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored, ReadOnlySpan<byte> incoming) => null;
    }
}
