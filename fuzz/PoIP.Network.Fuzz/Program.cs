using System.Diagnostics;
using System.Globalization;
using PoIP.Network.Fuzz;

// PoIP.Network parser fuzzing.
//   dotnet run -c Release --project fuzz/PoIP.Network.Fuzz -- [--executions N] [--target NAME] [--seed S]
//       managed mutation fuzzing (default 1,000,000 executions per target); prints one line per target
//   dotnet run -c Release --project fuzz/PoIP.Network.Fuzz -- libfuzzer NAME
//       SharpFuzz libFuzzer entry (needs the assemblies instrumented with `sharpfuzz` and a libFuzzer driver:
//       fuzz/libfuzzer.sh builds both and runs a campaign)
//   dotnet run -c Release --project fuzz/PoIP.Network.Fuzz -- seeds NAME DIR
//       writes the target's seed inputs to DIR (libFuzzer's starting corpus)
//   dotnet run -c Release --project fuzz/PoIP.Network.Fuzz -- run NAME FILE...
//       runs the target once on each file (a libFuzzer crash-* file, say) and prints the outcome
// Assemblies instrumented by sharpfuzz bump SharpFuzz.Common.Trace.SharedMem on every branch; it is
// null until LibFuzzer.Run points it at the driver's shared memory, so code that runs before that
// (FuzzTargets' static setup) or without a driver (seeds, run) gets a scratch map of its own.
TraceMap.EnsureScratch();

if (args.Length >= 2 && args[0] == "libfuzzer")
{
    var target = FuzzTargets.All.Single(t => t.Name == args[1]);
    if (!SingleWorker.Setup())
    {
        Console.Error.WriteLine("libfuzzer: could not limit the thread pool to one worker (run with DOTNET_PROCESSOR_COUNT=1, as fuzz/libfuzzer.sh does); coverage of concurrent targets will be noisy");
    }

    SharpFuzz.Fuzzer.LibFuzzer.Run(span =>
    {
        target.Run(span.ToArray());
        SingleWorker.Drain();
    });
    return 0;
}

if (args.Length >= 3 && args[0] == "seeds")
{
    var target = FuzzTargets.All.Single(t => t.Name == args[1]);
    Directory.CreateDirectory(args[2]);
    for (int i = 0; i < target.Seeds.Length; i++)
    {
        File.WriteAllBytes(Path.Combine(args[2], string.Create(CultureInfo.InvariantCulture, $"seed-{i}")), target.Seeds[i]);
    }

    return 0;
}

if (args.Length >= 3 && args[0] == "run")
{
    var target = FuzzTargets.All.Single(t => t.Name == args[1]);
    foreach (string file in args.Skip(2))
    {
        Console.WriteLine($"{file}: {target.Run(File.ReadAllBytes(file))}");
    }

    return 0;
}

if (args.Length >= 4 && args[0] == "repro")
{
    // repro TARGET HEX COUNT: runs one input many times with the hang watchdog
    var target = FuzzTargets.All.Single(t => t.Name == args[1]);
    byte[] input = Convert.FromHexString(args[2]);
    for (int i = 0; i < int.Parse(args[3], CultureInfo.InvariantCulture); i++)
    {
        var run = Task.Factory.StartNew(() => target.Run(input), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!run.Wait(TimeSpan.FromSeconds(10)))
        {
            Console.WriteLine($"REPRO hang at iteration {i}");
            return 1;
        }
    }

    Console.WriteLine("REPRO no hang");
    return 0;
}

long executions = 1_000_000;
string? only = null;
int seed = 1;
for (int i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--executions":
            executions = long.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--target":
            only = args[++i];
            break;
        case "--seed":
            seed = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
    }
}

int failures = 0;
foreach (var (name, run, seeds) in FuzzTargets.All)
{
    if (only is not null && only != name)
    {
        continue;
    }

    var result = MutationFuzzer.Run(run, seeds, executions, seed);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"FUZZ target={name} executions={result.Executions} seconds={result.Seconds:F1} exec_per_s={result.Executions / result.Seconds:F0} corpus={result.CorpusSize} findings={result.Findings.Count}"));
    foreach (var (input, error) in result.Findings.Take(5))
    {
        Console.WriteLine($"  finding: {error.GetType().Name}: {error.Message}\n  input: {Convert.ToHexString(input)}");
    }

    failures += result.Findings.Count;
}

return failures == 0 ? 0 : 1;

internal static class MutationFuzzer
{
    public sealed record Result(long Executions, double Seconds, int CorpusSize, List<(byte[] Input, Exception Error)> Findings);

    /// <summary>
    /// Runs <paramref name="executions"/> inputs: seeds, random bytes and mutations of a growing
    /// corpus (an input joins when it ends in an outcome not seen before: a cheap stand-in for coverage).
    /// </summary>
    public static Result Run(Func<byte[], string> target, byte[][] seeds, long executions, int seed)
    {
        var corpus = new List<byte[]>(seeds);
        var outcomes = new HashSet<string>(StringComparer.Ordinal);
        var findings = new List<(byte[], Exception)>();
        var mutator = new Mutator(seed);
        var random = new Random(seed);
        var sw = Stopwatch.StartNew();
        for (long n = 0; n < executions; n++)
        {
            byte[] input = n < seeds.Length ? seeds[n]
                : random.Next(20) == 0 ? mutator.RandomInput()
                : mutator.Mutate(corpus[random.Next(corpus.Count)], corpus);
            string outcome;
            try
            {
                var run = Task.Factory.StartNew(() => target(input), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                if (!run.Wait(TimeSpan.FromSeconds(10)))
                {
                    findings.Add((input, new TimeoutException("target did not finish within 10 s (hang)")));
                    return new Result(n + 1, sw.Elapsed.TotalSeconds, corpus.Count, findings);
                }

                outcome = run.GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                findings.Add((input, ex));
                if (findings.Count >= 20)
                {
                    return new Result(n + 1, sw.Elapsed.TotalSeconds, corpus.Count, findings);
                }

                continue;
            }

            if (outcomes.Add(outcome) && corpus.Count < 4096)
            {
                corpus.Add(input);
            }
        }

        return new Result(executions, sw.Elapsed.TotalSeconds, corpus.Count, findings);
    }
}

internal static class TraceMap
{
    public static unsafe void EnsureScratch()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
        {
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(65536);
        }
    }
}

/// <summary>
/// One thread-pool worker for libFuzzer runs. SharpFuzz's instrumentation keeps a single
/// process-wide "previous location" for its edge map, so code on two threads at once (a Yamux
/// read loop and its stream handlers) records edges that no single path has, and libFuzzer keeps
/// every input that happens to interleave differently (the first yamux-noise campaign grew a
/// 600 MB corpus in 61,000 runs). With one worker and the main thread blocked on the target, one
/// thread runs target code at a time; <see cref="Drain"/> then lets the worker finish what an input
/// left queued before the next input starts, so its edges are not counted against the next one.
/// </summary>
internal static class SingleWorker
{
    public static bool Setup() =>
        ThreadPool.SetMinThreads(1, 1) && ThreadPool.SetMaxThreads(1, 1);

    /// <summary>Waits (10 s at most) until a work item queued now has run on the worker.</summary>
    public static void Drain()
    {
        for (int round = 0; round < 2; round++)
        {
            using var done = new ManualResetEventSlim();
            ThreadPool.UnsafeQueueUserWorkItem(static d => d.Set(), done, preferLocal: false);
            if (!done.Wait(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException("the thread pool did not drain within 10 s after the input (work left running)");
            }
        }
    }
}
