using System.Diagnostics;
using System.Globalization;
using LLama.Native;
using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Llama;

namespace PoIP.Benchmarks.Inference;

/// <summary>
/// Prefill and decode speed through <see cref="LlamaInferenceEngine"/> (capture off, capture with a
/// copying observer, capture with the real <see cref="CommitmentBuilder"/>) against a minimal raw
/// LLamaSharp loop (same model, same threads, greedy arg-max, no embeddings). The four paths run
/// interleaved token by token (the order rotates every token), so load from other processes on a
/// shared machine hits them alike; each path's time is measured around its own step only. Also the
/// calling thread's CPU time per token (meaningful with <c>--threads 1</c>, where llama.cpp computes on
/// the calling thread) and the managed bytes allocated per decoded token in steady state.
/// Usage: <c>engine [--model model.gguf] [--threads N] [--prompt N] [--decode N] [--rounds N] [--raw-embeddings] [--raw-first]</c>
/// (<c>--raw-embeddings</c>: the raw loop's context gets the engine's embeddings settings;
/// <c>--raw-first</c>: the raw loop loads its model before the engine does).
/// </summary>
internal sealed partial class EngineBenchmark : IMacroBenchmark
{
    public string Name => "engine";

    public string Description => "llama.cpp engine vs raw LLamaSharp loop: prefill/decode tok/s, capture overhead, allocations";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        string? model = null;
        int threads = 1, promptTokens = 64, decodeTokens = 128, rounds = 5;
        bool rawEmbeddings = false, rawFirst = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--prompt": promptTokens = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--decode": decodeTokens = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--raw-embeddings": rawEmbeddings = true; break;
                case "--raw-first": rawFirst = true; break;
                case "--model": model = args[++i]; break;
                default: model = args[i]; break;
            }
        }

        model ??= EngineBenchmarkPaths.Stories260K();
        if (model is null || !File.Exists(model))
        {
            await Console.Error.WriteLineAsync("model not found: pass a GGUF path (default ../shared/models/stories260K.gguf beside the repository root).");
            return 2;
        }

        int context = promptTokens + decodeTokens + 16;
        var options = new LlamaEngineOptions
        {
            ModelPath = model,
            Threads = threads,
            ContextSize = context,
            MicroBatchSize = 512,
            MaxPromptTokens = promptTokens,
            MaxOutputTokens = decodeTokens,
            MaxConcurrentSequences = 3,
        };
        // --raw-first: load the raw loop's model before the engine's (does load order decide which is faster?).
        NativeBackend.EnsureLoaded(LlamaCpuVariant.Auto);
        using var rawEarly = rawFirst ? new RawLoop(model, threads, context, rawEmbeddings) : null;
        await using var engine = await LlamaInferenceEngine.LoadAsync(options, cancellationToken);
        var prompt = BuildPrompt(engine, promptTokens);
        using var rawLate = rawFirst ? null : new RawLoop(model, threads, context, rawEmbeddings);
        var raw = rawEarly ?? rawLate!;
        var observer = new TimedObserver(new CopyingObserver(engine.Model.EmbeddingLength, engine.Model.VocabularySize));
        var builder = CommitmentBuilder.ForModel(engine.Model, decodeTokens);
        var commitment = new TimedObserver(builder);
        var paths = new Path[]
        {
            new SdkPath(engine, prompt, null, rounds * decodeTokens),
            new RawPath(raw, prompt, rounds * decodeTokens),
            new SdkPath(engine, prompt, observer, rounds * decodeTokens),
            new SdkPath(engine, prompt, commitment, rounds * decodeTokens, builder.Reset),
        };

        // Warm-up round (JIT, first touch of buffers), then the measured rounds.
        await RunRoundAsync(paths, Math.Min(16, decodeTokens), measure: false, cancellationToken);
        for (int round = 0; round < rounds; round++)
        {
            await RunRoundAsync(paths, decodeTokens, measure: true, cancellationToken);
        }

        Path sdk = paths[0], rawPath = paths[1], capture = paths[2], commit = paths[3];
        BenchOutput.Print(new Dictionary<string, object>
        {
            ["name"] = "engine",
            ["model"] = System.IO.Path.GetFileName(model),
            ["identity"] = engine.Identity.ToString(),
            ["threads"] = threads,
            ["prompt_tokens"] = prompt.Count,
            ["decode_tokens"] = decodeTokens,
            ["rounds"] = rounds,
            ["raw_embeddings"] = rawEmbeddings,
            ["raw_loaded_first"] = rawFirst,
            ["sdk_prefill_tok_s"] = BenchOutput.Round(sdk.PrefillTokensPerSecond, 1),
            ["raw_prefill_tok_s"] = BenchOutput.Round(rawPath.PrefillTokensPerSecond, 1),
            ["prefill_ratio"] = BenchOutput.Round(sdk.PrefillTokensPerSecond / rawPath.PrefillTokensPerSecond),
            ["sdk_decode_tok_s"] = BenchOutput.Round(sdk.DecodeTokensPerSecond, 1),
            ["raw_decode_tok_s"] = BenchOutput.Round(rawPath.DecodeTokensPerSecond, 1),
            ["ratio"] = BenchOutput.Round(sdk.DecodeTokensPerSecond / rawPath.DecodeTokensPerSecond),
            ["sdk_capture_decode_tok_s"] = BenchOutput.Round(capture.DecodeTokensPerSecond, 1),
            ["capture_overhead"] = BenchOutput.Round(1 - (capture.DecodeTokensPerSecond / sdk.DecodeTokensPerSecond)),
            ["sdk_commitment_decode_tok_s"] = BenchOutput.Round(commit.DecodeTokensPerSecond, 1),
            ["commitment_overhead"] = BenchOutput.Round(1 - (commit.DecodeTokensPerSecond / sdk.DecodeTokensPerSecond)),
            ["sdk_decode_tok_s_median"] = BenchOutput.Round(sdk.MedianDecodeTokensPerSecond, 1),
            ["raw_decode_tok_s_median"] = BenchOutput.Round(rawPath.MedianDecodeTokensPerSecond, 1),
            ["ratio_cpu"] = BenchOutput.Round(rawPath.CpuSecondsPerToken / sdk.CpuSecondsPerToken),
            ["capture_overhead_cpu"] = BenchOutput.Round(1 - (sdk.CpuSecondsPerToken / capture.CpuSecondsPerToken)),
            ["commitment_overhead_cpu"] = BenchOutput.Round(1 - (sdk.CpuSecondsPerToken / commit.CpuSecondsPerToken)),
            ["capture_us_per_token"] = BenchOutput.Round(observer.MicrosecondsPerToken, 2),
            ["capture_overhead_direct"] = BenchOutput.Round(observer.MicrosecondsPerToken / (1e6 / sdk.DecodeTokensPerSecond), 5),
            ["commitment_us_per_token"] = BenchOutput.Round(commitment.MicrosecondsPerToken, 2),
            ["commitment_overhead_direct"] = BenchOutput.Round(commitment.MicrosecondsPerToken / (1e6 / sdk.DecodeTokensPerSecond), 5),
            ["alloc_bytes_per_token"] = BenchOutput.Round(sdk.AllocatedPerToken, 1),
            ["alloc_bytes_per_token_capture"] = BenchOutput.Round(capture.AllocatedPerToken, 1),
            ["load_average"] = LoadAverage(),
        });
        return 0;
    }

    private static async Task RunRoundAsync(Path[] paths, int tokens, bool measure, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var path in paths)
        {
            await path.StartAsync(measure);
        }

        for (int t = 1; t < tokens; t++)
        {
            for (int k = 0; k < paths.Length; k++)
            {
                await paths[(t + k) % paths.Length].StepAsync(measure, t);
            }
        }

        foreach (var path in paths)
        {
            await path.EndAsync();
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double LoadAverage()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
        catch (UnauthorizedAccessException)
        {
            return -1;
        }
    }

    private static List<int> BuildPrompt(LlamaInferenceEngine engine, int length)
    {
        var filler = engine.Tokenize(" Once upon a time, there was a little girl named Lily. She loved to play in the park with her dog.", false);
        var prompt = new List<int>(length);
        if (engine.Model.BeginOfSequenceToken >= 0)
        {
            prompt.Add(engine.Model.BeginOfSequenceToken);
        }

        while (prompt.Count < length)
        {
            prompt.Add(filler[prompt.Count % filler.Count]);
        }

        return prompt;
    }

    /// <summary>One measured path: started (prefill + first token), then stepped one token at a time.</summary>
    private abstract class Path(int tokenCapacity)
    {
        private readonly List<double> _intervals = new(tokenCapacity);
        private readonly List<double> _prefills = [];
        private readonly List<double> _allocations = [];
        private double _decodeSeconds;
        private double _cpuSeconds;
        private long _decodeTokens;
        private long _allocated;
        private int _allocTokens;

        public double PrefillTokensPerSecond => Median(_prefills);

        /// <summary>Tokens over the summed time of this path's own steps.</summary>
        public double DecodeTokensPerSecond => _decodeTokens / _decodeSeconds;

        public double MedianDecodeTokensPerSecond => 1 / Median(_intervals);

        public double CpuSecondsPerToken => _cpuSeconds / _decodeTokens;

        public double AllocatedPerToken => _allocations.Count == 0 ? -1 : Median(_allocations);

        public async Task StartAsync(bool measure)
        {
            long start = Stopwatch.GetTimestamp();
            int prompt = await PrefillAsync();
            if (measure)
            {
                _prefills.Add(prompt / Stopwatch.GetElapsedTime(start).TotalSeconds);
            }

            _allocated = 0;
            _allocTokens = 0;
        }

        public async Task StepAsync(bool measure, int index)
        {
            // Steady state from token 8 on: allocations of this path's own steps, on this thread.
            long allocBefore = GC.GetAllocatedBytesForCurrentThread();
            long cpu = ThreadCpu.Now();
            long start = Stopwatch.GetTimestamp();
            await NextAsync();
            long end = Stopwatch.GetTimestamp();
            long cpuEnd = ThreadCpu.Now();
            long allocAfter = GC.GetAllocatedBytesForCurrentThread();
            if (!measure)
            {
                return;
            }

            double seconds = (double)(end - start) / Stopwatch.Frequency;
            _intervals.Add(seconds);
            _decodeSeconds += seconds;
            _cpuSeconds += (cpuEnd - cpu) / 1e9;
            _decodeTokens++;
            if (index >= 8)
            {
                _allocated += allocAfter - allocBefore;
                _allocTokens++;
            }
        }

        public async Task EndAsync()
        {
            await FinishAsync();
            if (_allocTokens > 0)
            {
                _allocations.Add((double)_allocated / _allocTokens);
            }
        }

        protected abstract Task<int> PrefillAsync();

        protected abstract ValueTask NextAsync();

        protected abstract ValueTask FinishAsync();
    }

    private sealed class SdkPath(LlamaInferenceEngine engine, List<int> prompt, IActivationObserver? observer, int tokenCapacity, Action? reset = null)
        : Path(tokenCapacity)
    {
        private IAsyncEnumerator<GeneratedToken>? _tokens;

        protected override async Task<int> PrefillAsync()
        {
            reset?.Invoke();
            var request = new GenerationRequest(prompt, SamplingParameters.Greedy, 1, engine.Options.MaxOutputTokens);
            _tokens = engine.GenerateAsync(request, observer).GetAsyncEnumerator();
            if (!await _tokens.MoveNextAsync())
            {
                throw new InvalidOperationException("no first token");
            }

            return prompt.Count;
        }

        protected override async ValueTask NextAsync()
        {
            if (!await _tokens!.MoveNextAsync())
            {
                throw new InvalidOperationException("generation ended early");
            }
        }

        protected override async ValueTask FinishAsync()
        {
            if (_tokens is not null)
            {
                await _tokens.DisposeAsync();
                _tokens = null;
            }
        }
    }

    private sealed class RawPath(RawLoop raw, List<int> prompt, int tokenCapacity) : Path(tokenCapacity)
    {
        protected override Task<int> PrefillAsync()
        {
            raw.Prefill(prompt);
            return Task.FromResult(prompt.Count);
        }

        protected override ValueTask NextAsync()
        {
            raw.Step();
            return ValueTask.CompletedTask;
        }

        protected override ValueTask FinishAsync() => ValueTask.CompletedTask;
    }

    /// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in nanoseconds; 0 where unavailable.</summary>
    private static partial class ThreadCpu
    {
        public static long Now()
        {
            if (!OperatingSystem.IsLinux())
            {
                return 0;
            }

            return ClockGetTime(3, out var spec) == 0 ? (spec.Seconds * 1_000_000_000L) + spec.Nanoseconds : 0;
        }

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
        private static partial int ClockGetTime(int clock, out TimeSpec spec);

        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
        private struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }
    }

    /// <summary>
    /// Measures the time spent inside an observer's callbacks: the capture cost itself, free of the
    /// decode-time noise that a comparison of two generation speeds carries on a loaded machine.
    /// </summary>
    private sealed class TimedObserver(IActivationObserver inner) : IActivationObserver
    {
        private long _ticks;
        private long _tokens;

        public double MicrosecondsPerToken => _tokens == 0 ? 0 : _ticks * 1e6 / Stopwatch.Frequency / _tokens;

        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState) => inner.OnPrefill(promptTokenCount, lastHiddenState);

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
        {
            long start = Stopwatch.GetTimestamp();
            inner.OnToken(index, tokenId, hiddenState, logits);
            _ticks += Stopwatch.GetTimestamp() - start;
            _tokens++;
        }
    }

    /// <summary>What a commitment builder minimally does: copy the hidden state and read the logits.</summary>
    private sealed class CopyingObserver(int embedding, int vocabulary) : IActivationObserver
    {
        private readonly float[] _hidden = new float[embedding];
        private readonly float[] _logits = new float[vocabulary];

        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState) => lastHiddenState.CopyTo(_hidden);

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
        {
            hiddenState.CopyTo(_hidden);
            logits.CopyTo(_logits);
        }
    }

    /// <summary>The minimal loop a LLamaSharp user writes: prefill, then arg-max and decode one token at a time.</summary>
    private sealed class RawLoop : IDisposable
    {
        private readonly SafeLlamaModelHandle _model;
        private readonly SafeLLamaContextHandle _context;
        private readonly LLamaBatch _batch = new();
        private readonly int _vocabulary;
        private int _next;
        private int _position;

        public RawLoop(string path, int threads, int context, bool embeddings)
        {
            _model = SafeLlamaModelHandle.LoadFromFile(path, LLamaModelParams.Default());
            var parameters = LLamaContextParams.Default();
            parameters.n_ctx = (uint)context;
            parameters.n_batch = 512;
            parameters.n_ubatch = 512;
            parameters.n_seq_max = 1;
            parameters.n_threads = threads;
            parameters.n_threads_batch = threads;
            parameters.llama_flash_attn_type = LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;

            // --raw-embeddings: the context configured as the engine's (to tell its settings from its code).
            parameters.embeddings = embeddings;
            if (embeddings)
            {
                parameters.llama_pooling_type = LLamaPoolingType.None;
            }

            _context = SafeLLamaContextHandle.Create(_model, parameters);
            _vocabulary = _model.Vocab.Count;
        }

        public void Prefill(List<int> prompt)
        {
            _context.MemoryClear(true);
            _batch.Clear();
            for (int i = 0; i < prompt.Count; i++)
            {
                _batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
            }

            Check(_context.Decode(_batch));
            _next = ArgMax(_context.GetLogitsIth(_batch.TokenCount - 1));
            _position = prompt.Count;
        }

        public void Step()
        {
            _batch.Clear();
            _batch.Add((LLamaToken)_next, _position++, LLamaSeqId.Zero, true);
            Check(_context.Decode(_batch));
            _next = ArgMax(_context.GetLogitsIth(0));
        }

        public void Dispose()
        {
            _context.Dispose();
            _model.Dispose();
        }

        private static void Check(DecodeResult result)
        {
            if (result != DecodeResult.Ok)
            {
                throw new InvalidOperationException("llama_decode: " + result);
            }
        }

        private int ArgMax(Span<float> logits)
        {
            int best = 0;
            for (int i = 1; i < _vocabulary; i++)
            {
                if (logits[i] > logits[best])
                {
                    best = i;
                }
            }

            return best;
        }
    }
}
