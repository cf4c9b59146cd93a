using System.Diagnostics;
using System.Globalization;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.IntegrationTests;
using PoIP.Testing.Economics;

namespace PoIP.Benchmarks.Economics;

/// <summary>
/// Escrows opened per second on Anvil as the ledger's state grows, by many concurrent requests of one
/// client account (a gateway's load): with a block mined per transaction (Anvil's default) each block
/// costs a pass over the whole state, so the rate falls as escrows accumulate; with a block every
/// 0.25 s holding all the transactions sent meanwhile (as on a real chain; one account's transactions
/// share blocks since session 9) the cost is paid once per block. Prints the rate and the median
/// latency of the first and the last 1,000 escrows of each mode; ratio = the last rate with a block
/// time over the last rate with a block per transaction.
/// </summary>
internal sealed class ChainGrowthBenchmark : IMacroBenchmark
{
    private const int Window = 1_000;

    public string Name => "chain-growth";

    public string Description => "escrows/s on Anvil as the state grows: a block per transaction vs a block every 0.25 s [escrows=4000 senders=16]";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int escrows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 4_000;
        int senders = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
        if (escrows < 2 * Window || senders < 1)
        {
            await Console.Error.WriteLineAsync($"escrows must be at least {2 * Window} and senders at least 1.").ConfigureAwait(false);
            return 2;
        }

        var perTransaction = await RunModeAsync(AnvilChain.With(), escrows, senders, cancellationToken).ConfigureAwait(false);
        var interval = await RunModeAsync(AnvilChain.With("--block-time", "0.25"), escrows, senders, cancellationToken).ConfigureAwait(false);
        BenchOutput.Print(new Dictionary<string, object>
        {
            ["name"] = "chain_growth",
            ["escrows"] = escrows,
            ["senders"] = senders,
            ["block_per_tx_first_per_s"] = BenchOutput.Round(perTransaction.First.PerSecond, 1),
            ["block_per_tx_last_per_s"] = BenchOutput.Round(perTransaction.Last.PerSecond, 1),
            ["block_per_tx_p50_first_ms"] = BenchOutput.Round(perTransaction.First.MedianMs, 1),
            ["block_per_tx_p50_last_ms"] = BenchOutput.Round(perTransaction.Last.MedianMs, 1),
            ["block_time_s"] = 0.25,
            ["block_time_first_per_s"] = BenchOutput.Round(interval.First.PerSecond, 1),
            ["block_time_last_per_s"] = BenchOutput.Round(interval.Last.PerSecond, 1),
            ["block_time_p50_first_ms"] = BenchOutput.Round(interval.First.MedianMs, 1),
            ["block_time_p50_last_ms"] = BenchOutput.Round(interval.Last.MedianMs, 1),
            ["ratio"] = BenchOutput.Round(interval.Last.PerSecond / perTransaction.Last.PerSecond),
        });
        return 0;
    }

    private static async Task<(Figures First, Figures Last)> RunModeAsync(AnvilChain chain, int escrows, int senders, CancellationToken cancellationToken)
    {
        await chain.InitializeAsync().ConfigureAwait(false);
        try
        {
            await using var h = await EvmHarness.StartAsync(chain).ConfigureAwait(false);
            using var node = Ed25519KeyPair.Generate();
            using var client = Ed25519KeyPair.Generate();
            await h.FundAsync(node.PeerId, h.Parameters.MinimumStake).ConfigureAwait(false);
            ChainBenchmark.Require(await h.Evm.StakeAsync(OperationId.New(), node.PeerId, h.Parameters.MinimumStake, cancellationToken).ConfigureAwait(false));
            await h.FundAsync(client.PeerId, TokenAmount.FromTokens((ulong)escrows)).ConfigureAwait(false);

            var latencies = new double[escrows];
            var finished = new long[escrows];
            var started = Stopwatch.GetTimestamp();
            int next = -1;
            int done = -1;
            async Task SendAsync()
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < escrows)
                {
                    var request = EvidenceFactory.Request(client, (ulong)i, TokenAmount.FromTokens(1));
                    long at = Stopwatch.GetTimestamp();
                    ChainBenchmark.Require(await h.Evm.OpenEscrowAsync(OperationId.New(), new RequestId(request.Hash), client.PeerId, node.PeerId, TokenAmount.FromTokens(1), null, cancellationToken).ConfigureAwait(false));
                    long now = Stopwatch.GetTimestamp();
                    int order = Interlocked.Increment(ref done);
                    latencies[order] = Stopwatch.GetElapsedTime(at, now).TotalMilliseconds;
                    finished[order] = now;
                }
            }

            await Task.WhenAll(Enumerable.Range(0, senders).Select(_ => Task.Run(SendAsync, cancellationToken))).ConfigureAwait(false);
            return (Measure(latencies, finished, 0, started), Measure(latencies, finished, escrows - Window, finished[escrows - Window - 1]));
        }
        finally
        {
            await chain.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The rate and median latency of the <see cref="Window"/> escrows confirmed from <paramref name="from"/> on.</summary>
    private static Figures Measure(double[] latencies, long[] finished, int from, long windowStart)
    {
        var window = latencies.AsSpan(from, Window).ToArray();
        Array.Sort(window);
        return new Figures(Window / Stopwatch.GetElapsedTime(windowStart, finished[from + Window - 1]).TotalSeconds, window[Window / 2]);
    }

    private readonly record struct Figures(double PerSecond, double MedianMs);
}
