using System.Diagnostics;
using System.Globalization;
using LLama.Native;
using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Llama;

namespace PoIP.Benchmarks.Inference;

/// <summary>
/// Prefill and decode speed through <see cref="LlamaInferenceEngine"/> (capture off and on) against a
/// minimal raw LLamaSharp loop (same model, same threads, greedy arg-max, no embeddings), rounds
/// interleaved, medians reported. Also the managed bytes allocated per decoded token in steady state.
/// Usage: <c>engine [--model model.gguf] [--threads N] [--prompt N] [--decode N] [--rounds N]</c>.
/// </summary>
internal sealed class EngineBenchmark : IMacroBenchmark
{
    public string Name => "engine";

    public string Description => "llama.cpp engine vs raw LLamaSharp loop: prefill/decode tok/s, capture overhead, allocations";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        string? model = null;
        int threads = 1, promptTokens = 64, decodeTokens = 128, rounds = 5;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--prompt": promptTokens = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--decode": decodeTokens = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
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
            MaxConcurrentSequences = 1,
        };
        await using var engine = await LlamaInferenceEngine.LoadAsync(options, cancellationToken);
        var prompt = BuildPrompt(engine, promptTokens);
        using var raw = new RawLoop(model, threads, context);

        var sdkOff = new Runs(rounds * decodeTokens);
        var sdkOn = new Runs(rounds * decodeTokens);
        var sdkCommit = new Runs(rounds * decodeTokens);
        var rawRuns = new Runs(rounds * decodeTokens);
        var observer = new CopyingObserver(engine.Model.EmbeddingLength, engine.Model.VocabularySize);
        var commitment = CommitmentBuilder.ForModel(engine.Model, decodeTokens);

        // Warm-up of every path.
        await RunSdkAsync(engine, prompt, 8, null, new Runs(16), cancellationToken);
        await RunSdkAsync(engine, prompt, 8, observer, new Runs(16), cancellationToken);
        commitment.Reset();
        await RunSdkAsync(engine, prompt, 8, commitment, new Runs(16), cancellationToken);
        raw.Run(prompt, 8, new Runs(16));

        // Rounds interleave the four paths so that load from other processes hits all of them alike.
        for (int round = 0; round < rounds; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await RunSdkAsync(engine, prompt, decodeTokens, null, sdkOff, cancellationToken);
            raw.Run(prompt, decodeTokens, rawRuns);
            await RunSdkAsync(engine, prompt, decodeTokens, observer, sdkOn, cancellationToken);
            commitment.Reset();
            await RunSdkAsync(engine, prompt, decodeTokens, commitment, sdkCommit, cancellationToken);
        }

        double sdkDecode = sdkOff.DecodeTokensPerSecond, rawDecode = rawRuns.DecodeTokensPerSecond;
        double onDecode = sdkOn.DecodeTokensPerSecond, commitDecode = sdkCommit.DecodeTokensPerSecond;
        BenchOutput.Print(new Dictionary<string, object>
        {
            ["name"] = "engine",
            ["model"] = Path.GetFileName(model),
            ["identity"] = engine.Identity.ToString(),
            ["threads"] = threads,
            ["prompt_tokens"] = prompt.Count,
            ["decode_tokens"] = decodeTokens,
            ["rounds"] = rounds,
            ["sdk_prefill_tok_s"] = BenchOutput.Round(sdkOff.PrefillTokensPerSecond, 1),
            ["raw_prefill_tok_s"] = BenchOutput.Round(rawRuns.PrefillTokensPerSecond, 1),
            ["prefill_ratio"] = BenchOutput.Round(sdkOff.PrefillTokensPerSecond / rawRuns.PrefillTokensPerSecond),
            ["sdk_decode_tok_s"] = BenchOutput.Round(sdkDecode, 1),
            ["raw_decode_tok_s"] = BenchOutput.Round(rawDecode, 1),
            ["ratio"] = BenchOutput.Round(sdkDecode / rawDecode),
            ["sdk_capture_decode_tok_s"] = BenchOutput.Round(onDecode, 1),
            ["capture_overhead"] = BenchOutput.Round(1 - (onDecode / sdkDecode)),
            ["sdk_commitment_decode_tok_s"] = BenchOutput.Round(commitDecode, 1),
            ["commitment_overhead"] = BenchOutput.Round(1 - (commitDecode / sdkDecode)),
            ["sdk_decode_tok_s_mean"] = BenchOutput.Round(sdkOff.MeanDecodeTokensPerSecond, 1),
            ["raw_decode_tok_s_mean"] = BenchOutput.Round(rawRuns.MeanDecodeTokensPerSecond, 1),
            ["alloc_bytes_per_token"] = BenchOutput.Round(sdkOff.AllocatedPerToken, 1),
            ["alloc_bytes_per_token_capture"] = BenchOutput.Round(sdkOn.AllocatedPerToken, 1),
            ["load_average"] = LoadAverage(),
        });
        return 0;
    }

    private static async Task RunSdkAsync(LlamaInferenceEngine engine, List<int> prompt, int tokens, IActivationObserver? observer, Runs runs, CancellationToken cancellationToken)
    {
        var request = new GenerationRequest(prompt, SamplingParameters.Greedy, 1, tokens);
        long start = Stopwatch.GetTimestamp();
        long previous = start;
        int count = 0, thread = 0;
        long allocStart = 0, allocEnd = 0, measured = 0;
        await foreach (var _ in engine.GenerateAsync(request, observer, cancellationToken).ConfigureAwait(false))
        {
            long now = Stopwatch.GetTimestamp();
            if (count == 0)
            {
                runs.AddPrefill(prompt.Count, now - start);
            }
            else
            {
                runs.AddTokenInterval(now - previous);
            }

            previous = now;

            // Steady state: from token 8 on, on one thread (the decode loop runs where the consumer runs).
            if (count == 8)
            {
                thread = Environment.CurrentManagedThreadId;
                allocStart = GC.GetAllocatedBytesForCurrentThread();
            }
            else if (count > 8 && Environment.CurrentManagedThreadId == thread)
            {
                allocEnd = GC.GetAllocatedBytesForCurrentThread();
                measured = count - 8;
            }

            count++;
        }

        runs.AddRun(count - 1, previous - start - runs.LastPrefillTicks, measured > 0 ? (double)(allocEnd - allocStart) / measured : -1);
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

    /// <summary>
    /// Timings of one path over all rounds. Decode speed is 1 / the median time between two tokens
    /// (robust to bursts of load from other processes on a shared machine); the mean over whole runs is
    /// reported beside it.
    /// </summary>
    private sealed class Runs
    {
        private readonly List<double> _intervals;
        private readonly List<double> _prefills = [];
        private readonly List<double> _runDecodes = [];
        private readonly List<double> _allocations = [];

        /// <summary>Sized up front: growing the list inside the token loop would count as the engine's allocations.</summary>
        public Runs(int tokenCapacity) => _intervals = new List<double>(tokenCapacity);

        public long LastPrefillTicks { get; private set; }

        public double DecodeTokensPerSecond => 1 / Median(_intervals);

        public double PrefillTokensPerSecond => Median(_prefills);

        public double MeanDecodeTokensPerSecond => _runDecodes.Count == 0 ? 0 : _runDecodes.Average();

        public double AllocatedPerToken => Median(_allocations);

        public void AddPrefill(int tokens, long ticks)
        {
            LastPrefillTicks = ticks;
            _prefills.Add(tokens / ((double)ticks / Stopwatch.Frequency));
        }

        public void AddTokenInterval(long ticks) => _intervals.Add((double)ticks / Stopwatch.Frequency);

        public void AddRun(int tokens, long decodeTicks, double allocatedPerToken)
        {
            _runDecodes.Add(tokens / ((double)decodeTicks / Stopwatch.Frequency));
            _allocations.Add(allocatedPerToken);
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

        public RawLoop(string path, int threads, int context)
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
            _context = SafeLLamaContextHandle.Create(_model, parameters);
            _vocabulary = _model.Vocab.Count;
        }

        public void Run(List<int> prompt, int tokens, Runs runs)
        {
            _context.MemoryClear(true);
            long start = Stopwatch.GetTimestamp();
            _batch.Clear();
            for (int i = 0; i < prompt.Count; i++)
            {
                _batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
            }

            Check(_context.Decode(_batch));
            int next = ArgMax(_context.GetLogitsIth(_batch.TokenCount - 1));
            long previous = Stopwatch.GetTimestamp();
            runs.AddPrefill(prompt.Count, previous - start);
            int position = prompt.Count;
            for (int produced = 1; produced < tokens; produced++)
            {
                _batch.Clear();
                _batch.Add((LLamaToken)next, position++, LLamaSeqId.Zero, true);
                Check(_context.Decode(_batch));
                next = ArgMax(_context.GetLogitsIth(0));
                long now = Stopwatch.GetTimestamp();
                runs.AddTokenInterval(now - previous);
                previous = now;
            }

            runs.AddRun(tokens - 1, previous - start - runs.LastPrefillTicks, 0);
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
