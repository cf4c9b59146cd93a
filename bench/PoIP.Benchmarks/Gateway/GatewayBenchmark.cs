using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PoIP.Benchmarks.Inference;
using PoIP.Core.Protocol;
using PoIP.Gateway;
using PoIP.Hosting.Client;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Benchmarks.Gateway;

/// <summary>
/// <c>gateway</c>: 1, 8 and 64 concurrent streaming clients against a 3-node loopback network on
/// stories260K, through the OpenAI-compatible gateway over HTTP (SSE) and, as the baseline in the
/// same run, through <see cref="PoIPClient"/> directly: requests/s, time to first token p50/p99,
/// tokens/s; <c>ratio</c> = gateway ÷ direct throughput at the highest concurrency. Audits off
/// (p = 0), so the figures are the request path, not re-execution.
/// Arguments: <c>[requests-per-level] [max-tokens]</c> (default 64, 32).
/// </summary>
internal sealed class GatewayBenchmark : IMacroBenchmark
{
    private static readonly int[] DefaultLevels = [1, 8, 64];

    public string Name => "gateway";

    public string Description => "OpenAI-compatible gateway (HTTP SSE) vs PoIPClient direct: req/s, TTFT p50/p99, tok/s at 1/8/64 clients";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int perLevel = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 64;
        int maxTokens = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 32;
        // Optional third argument: the client counts to run, e.g. "1,8" (long levels at 64 clients overflow the nodes' queues).
        int[] levels = args.Length > 2 ? [.. args[2].Split(',').Select(l => int.Parse(l, CultureInfo.InvariantCulture))] : DefaultLevels;
        string model = EngineBenchmarkPaths.Stories260K() ?? throw new InvalidOperationException("stories260K.gguf not found (../shared/models).");
        string data = Directory.CreateTempSubdirectory("poip-bench-gateway-").FullName;
        try
        {
            await using var network = await LocalNetwork.StartAsync(new LocalNetworkOptions { ModelPath = model, DataDirectory = data, Nodes = 3, Cheat = CheatKind.None, AuditProbability = 0, MaxTokens = maxTokens }, cancellationToken);
            var gatewayModel = await GatewayModel.FromGgufAsync(model, cancellationToken);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
            builder.Services.AddPoIPGateway(o =>
            {
                o.Models.Add(gatewayModel);
                o.MaxTokensLimit = maxTokens;
                o.DefaultMaxTokens = maxTokens;
            }, _ => network.Client);
            await using var app = builder.Build();
            app.MapPoIPGateway();
            await app.StartAsync(cancellationToken);
            var baseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) };

            var ask = new AskOptions(network.Model, new SamplingParameters(), 1, maxTokens, PoIP.Core.Money.TokenAmount.ParseTokens("0.001").Multiply((ulong)maxTokens));
            async Task<Sample> Direct(int i)
            {
                long start = Stopwatch.GetTimestamp();
                TimeSpan? first = null;
                var answer = await network.Client.AskAsync("Once upon a time", ask with { Seed = (ulong)i }, _ => first ??= Stopwatch.GetElapsedTime(start), cancellationToken);
                return new Sample(first ?? Stopwatch.GetElapsedTime(start), answer.OutputTokens.Count);
            }

            async Task<Sample> Gateway(int i)
            {
                long start = Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions")
                {
                    Content = new StringContent($$$"""{"model":"{{{gatewayModel.Name}}}","prompt":"Once upon a time","max_tokens":{{{maxTokens}}},"seed":{{{i}}},"stream":true,"stream_options":{"include_usage":true}}""", Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
                };
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                response.EnsureSuccessStatusCode();
                // A lean SSE reader (no strings per line): the first bytes are the first token's event; the token
                // count is read from the usage chunk at the end, kept in the buffer's last kilobytes.
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
                TimeSpan? first = null;
                int length = 0;
                int tokens = 0;
                try
                {
                    while (true)
                    {
                        if (length > buffer.Length - 4096)
                        {
                            buffer.AsSpan(length - 2048, 2048).CopyTo(buffer);
                            length = 2048;
                        }

                        int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                        if (read == 0)
                        {
                            break;
                        }

                        first ??= Stopwatch.GetElapsedTime(start);
                        length += read;
                    }

                    var text = buffer.AsSpan(0, length);
                    int at = text.LastIndexOf("\"completion_tokens\":"u8);
                    if (at >= 0)
                    {
                        var digits = text[(at + 20)..];
                        tokens = Utf8Parser.TryParse(digits, out int parsed, out _) ? parsed : throw new InvalidDataException("completion_tokens is not a number");
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                return new Sample(first ?? Stopwatch.GetElapsedTime(start), tokens);
            }

            await RunLevelAsync(4, 8, Direct); // warm-up: JIT, connections, every node explored
            await RunLevelAsync(4, 8, Gateway);
            var figures = new Dictionary<string, object> { ["benchmark"] = Name, ["nodes"] = 3, ["max_tokens"] = maxTokens, ["requests_per_level"] = perLevel };
            double gatewayTop = 0, directTop = 0;
            foreach (int level in levels)
            {
                var direct = await RunLevelAsync(level, perLevel, Direct);
                var gateway = await RunLevelAsync(level, perLevel, Gateway);
                Put(figures, $"c{level}_gateway", gateway);
                Put(figures, $"c{level}_direct", direct);
                figures[$"c{level}_added_cpu_ms_per_request"] = BenchOutput.Round(gateway.CpuMsPerRequest - direct.CpuMsPerRequest, 3);
                figures[$"c{level}_added_alloc_kib_per_request"] = BenchOutput.Round(gateway.AllocKibPerRequest - direct.AllocKibPerRequest, 1);
                figures[$"c{level}_ratio"] = BenchOutput.Round(gateway.RequestsPerSecond / direct.RequestsPerSecond);
                gatewayTop = gateway.RequestsPerSecond;
                directTop = direct.RequestsPerSecond;
            }

            using var process = Process.GetCurrentProcess();
            figures["peak_working_set_mib"] = BenchOutput.Round(process.PeakWorkingSet64 / 1048576.0, 1);
            figures["managed_heap_mib"] = BenchOutput.Round(GC.GetTotalMemory(false) / 1048576.0, 1);
            figures["ratio"] = BenchOutput.Round(gatewayTop / directTop);
            BenchOutput.Print(figures);
            await app.StopAsync(cancellationToken);
            return 0;
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

    private static void Put(Dictionary<string, object> figures, string prefix, Level level)
    {
        figures[prefix + "_requests_per_s"] = BenchOutput.Round(level.RequestsPerSecond, 2);
        figures[prefix + "_ttft_p50_ms"] = BenchOutput.Round(level.TtftP50.TotalMilliseconds, 2);
        figures[prefix + "_ttft_p99_ms"] = BenchOutput.Round(level.TtftP99.TotalMilliseconds, 2);
        figures[prefix + "_tokens_per_s"] = BenchOutput.Round(level.TokensPerSecond, 1);
        figures[prefix + "_cpu_ms_per_request"] = BenchOutput.Round(level.CpuMsPerRequest, 3);
        figures[prefix + "_alloc_kib_per_request"] = BenchOutput.Round(level.AllocKibPerRequest, 1);
    }

    /// <summary>Runs <paramref name="total"/> requests with <paramref name="concurrency"/> in flight.</summary>
    private static async Task<Level> RunLevelAsync(int concurrency, int total, Func<int, Task<Sample>> send)
    {
        int next = 0;
        var samples = new List<Sample>(total);
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= total)
            {
                var sample = await send(i);
                lock (samples)
                {
                    samples.Add(sample);
                }
            }
        }).ToList();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var ttft = samples.Select(s => s.TimeToFirstToken).Order().ToList();
        return new Level(
            samples.Count / elapsed.TotalSeconds,
            ttft[(int)Math.Floor(0.5 * (ttft.Count - 1))],
            ttft[(int)Math.Ceiling(0.99 * (ttft.Count - 1))],
            samples.Sum(s => s.Tokens) / elapsed.TotalSeconds,
            cpu.TotalMilliseconds / samples.Count,
            allocated / 1024.0 / samples.Count);
    }

    private readonly record struct Sample(TimeSpan TimeToFirstToken, int Tokens);

    /// <summary>One level's figures; CPU and allocations are the whole process's (the nodes, the load generator and, on the gateway path, Kestrel and the gateway) divided by the requests, so gateway minus direct is what the HTTP path adds per request.</summary>
    private readonly record struct Level(double RequestsPerSecond, TimeSpan TtftP50, TimeSpan TtftP99, double TokensPerSecond, double CpuMsPerRequest, double AllocKibPerRequest);
}
