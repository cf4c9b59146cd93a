using System.Diagnostics;
using System.Globalization;
using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Gguf;
using PoIP.Inference.Llama;

namespace PoIP.Benchmarks.Inference;

/// <summary>
/// How far teacher-forced re-execution sits from decoding, for any GGUF model (the hook for the
/// synthesized F16/Q8_0/Q4_K_M models): seeded sampled generations, then one teacher-forced prefill
/// of the same tokens; relative L2 error of the hidden state per position and max |Δlogit|.
/// Also decode speed (seeded sampling) against teacher-forcing speed (one prefill of prompt + output),
/// what a validator pays to re-check a receipt.
/// Then the same generation replayed step by step (<see cref="IDecodingReplay"/>, what a validator
/// runs to confirm a suspected sampling fraud), by a second engine with <c>--replay-threads</c>
/// threads (default: the same engine): positions whose hidden state and logits are bit-for-bit those
/// of decoding, and replay speed.
/// Positions where the teacher-forced prefill equals decoding bit for bit (hidden state and logits)
/// are counted too (<c>teacherforce_bit_exact_positions</c>), with process CPU time of each path.
/// Usage: <c>teacherforce [--model model.gguf | --synth f32|f16|q8_0|q4_k_m] [--tokens N] [--runs N] [--ubatch N] [--threads N] [--replay-threads N] [--kv f16|f32|q8_0] [--fa on|off] [--repack on|off] [--replay-repack on|off]</c>
/// (model default: POIP_TF_MODEL, else stories260K). <c>--synth T</c> writes a small seeded model
/// (dim 256, 4 layers, 4 heads, 2 KV heads, ff 768, vocabulary 512, seed 1) of weight type T to a
/// temporary file first, so the figure needs nothing but this repository.
/// </summary>
internal sealed class TeacherForcingBenchmark : IMacroBenchmark
{
    public string Name => "teacherforce";

    public string Description => "teacher-forced re-execution vs decoding: relative L2 of hidden states, max |Δlogit|";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        string? model = Environment.GetEnvironmentVariable("POIP_TF_MODEL");
        int tokens = 128, runs = 4, ubatch = 512, threads = 1, replayThreads = 0;
        var kv = KvCacheType.F16;
        bool flash = false, repack = true;
        bool? replayRepack = null;
        string? synth = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--tokens": tokens = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--ubatch": ubatch = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--replay-threads": replayThreads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--kv": kv = args[++i] switch { "f32" => KvCacheType.F32, "q8_0" => KvCacheType.Q80, _ => KvCacheType.F16 }; break;
                case "--fa": flash = args[++i] == "on"; break;
                case "--repack": repack = args[++i] != "off"; break;
                case "--replay-repack": replayRepack = args[++i] != "off"; break;
                case "--model": model = args[++i]; break;
                case "--synth": synth = args[++i]; break;
                default: model = args[i]; break;
            }
        }

        string? temporary = null;
        if (synth is not null)
        {
            SynthesisType type = synth switch
            {
                "f32" => SynthesisType.F32,
                "f16" => SynthesisType.F16,
                "q8_0" => SynthesisType.Q8_0,
                "q4_k_m" => SynthesisType.Q4_K_M,
                _ => throw new ArgumentException($"--synth takes f32, f16, q8_0 or q4_k_m, not {synth}."),
            };
            NativeBackend.EnsureLoaded(LlamaCpuVariant.Auto);
            temporary = Path.Combine(Path.GetTempPath(), $"poip-tf-synth-{synth}-{Environment.ProcessId}.gguf");
            LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 256, Layers = 4, Heads = 4, KvHeads = 2, FeedForward = 768, Vocabulary = 512, ContextLength = 1024, Type = type, Seed = 1 }, temporary);
            model = temporary;
        }

        model ??= EngineBenchmarkPaths.Stories260K();
        if (model is null || !File.Exists(model))
        {
            await Console.Error.WriteLineAsync("model not found: pass a GGUF path or set POIP_TF_MODEL.");
            return 2;
        }

        try
        {
            return await MeasureAsync(model, synth is null ? Path.GetFileName(model) : $"synth256x4-{synth}", tokens, runs, ubatch, threads, replayThreads, kv, flash, repack, replayRepack ?? repack, cancellationToken);
        }
        finally
        {
            if (temporary is not null)
            {
                File.Delete(temporary);
            }
        }
    }

    private static async Task<int> MeasureAsync(string model, string name, int tokens, int runs, int ubatch, int threads, int replayThreads, KvCacheType kv, bool flash, bool repack, bool replayRepack, CancellationToken cancellationToken)
    {
        var options = new LlamaEngineOptions
        {
            ModelPath = model,
            Threads = threads,
            ContextSize = tokens + 64,
            MicroBatchSize = ubatch,
            MaxPromptTokens = 32,
            MaxOutputTokens = tokens,
            MaxConcurrentSequences = 1,
            KvCacheType = kv,
            FlashAttention = flash,
            WeightRepacking = repack,
        };
        await using var engine = await LlamaInferenceEngine.LoadAsync(options, cancellationToken);
        bool separateReplay = (replayThreads > 0 && replayThreads != threads) || replayRepack != repack;
        await using var replayEngine = separateReplay ? await LlamaInferenceEngine.LoadAsync(options with { Threads = replayThreads > 0 ? replayThreads : threads, WeightRepacking = replayRepack }, cancellationToken) : null;
        var replayer = replayEngine ?? engine;
        int replayExact = 0, replayPositions = 0, forcedExact = 0, firstInexact = -1;
        double decodeCpu = 0, forceCpu = 0, replayCpu = 0;
        double replaySeconds = 0, replayMaxError = 0;
        var errors = new List<double>();
        double maxLogit = 0;
        string[] prompts = ["Once upon a time", "The little dog", "Lily and Ben went to the park", "One day, a big bird"];
        var sampling = new SamplingParameters { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.05f };
        double decodeSeconds = 0, forceSeconds = 0;
        long decodedTokens = 0, forcedTokens = 0;
        for (int run = 0; run < runs; run++)
        {
            var prompt = engine.Tokenize(prompts[run % prompts.Length], true);
            var decoded = new Recorder();
            var output = new List<int>();
            long first = 0;
            TimeSpan cpu = Environment.CpuUsage.TotalTime;
            await foreach (var token in engine.GenerateAsync(new GenerationRequest(prompt, sampling, (ulong)(run + 1), tokens), decoded, cancellationToken))
            {
                if (output.Count == 0)
                {
                    first = Stopwatch.GetTimestamp();
                }

                output.Add(token.TokenId);
            }

            decodeSeconds += Stopwatch.GetElapsedTime(first).TotalSeconds;
            decodeCpu += (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds;
            decodedTokens += output.Count - 1;
            var forced = new Recorder();
            long started = Stopwatch.GetTimestamp();
            cpu = Environment.CpuUsage.TotalTime;
            await engine.TeacherForceAsync(prompt, output, forced, cancellationToken);
            forceSeconds += Stopwatch.GetElapsedTime(started).TotalSeconds;
            forceCpu += (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds;
            forcedTokens += prompt.Count + output.Count - 1;
            for (int i = 0; i < output.Count; i++)
            {
                errors.Add(RelativeL2(decoded.Hidden[i], forced.Hidden[i]));
                if (decoded.Hidden[i].AsSpan().SequenceEqual(forced.Hidden[i]) && decoded.Logits[i].AsSpan().SequenceEqual(forced.Logits[i]))
                {
                    forcedExact++;
                }
                else if (firstInexact < 0)
                {
                    firstInexact = i;
                }

                for (int j = 0; j < decoded.Logits[i].Length; j++)
                {
                    maxLogit = Math.Max(maxLogit, Math.Abs(decoded.Logits[i][j] - forced.Logits[i][j]));
                }
            }

            var replayed = new Recorder();
            started = Stopwatch.GetTimestamp();
            cpu = Environment.CpuUsage.TotalTime;
            await replayer.ReplayDecodingAsync(prompt, output, ubatch, replayed, cancellationToken);
            replaySeconds += Stopwatch.GetElapsedTime(started).TotalSeconds;
            replayCpu += (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds;
            for (int i = 0; i < output.Count; i++)
            {
                replayPositions++;
                bool exact = decoded.Hidden[i].AsSpan().SequenceEqual(replayed.Hidden[i]) && decoded.Logits[i].AsSpan().SequenceEqual(replayed.Logits[i]);
                replayExact += exact ? 1 : 0;
                replayMaxError = Math.Max(replayMaxError, RelativeL2(decoded.Hidden[i], replayed.Hidden[i]));
            }
        }

        errors.Sort();
        BenchOutput.Print(new Dictionary<string, object>
        {
            ["name"] = "teacherforce",
            ["model"] = name,
            ["identity"] = engine.Identity.ToString(),
            ["threads"] = threads,
            ["positions"] = errors.Count,
            ["rel_l2_median"] = errors[errors.Count / 2],
            ["rel_l2_p95"] = errors[(int)(errors.Count * 0.95)],
            ["rel_l2_max"] = errors[^1],
            ["max_abs_logit_diff"] = maxLogit,
            ["weight_repacking"] = repack,
            ["teacherforce_bit_exact_positions"] = forcedExact,
            ["teacherforce_first_inexact_position"] = firstInexact,
            ["decode_cpu_ms"] = BenchOutput.Round(decodeCpu, 1),
            ["teacherforce_cpu_ms"] = BenchOutput.Round(forceCpu, 1),
            ["replay_cpu_ms"] = BenchOutput.Round(replayCpu, 1),
            ["decode_tok_s"] = BenchOutput.Round(decodedTokens / decodeSeconds, 1),
            ["teacherforce_tok_s"] = BenchOutput.Round(forcedTokens / forceSeconds, 1),
            ["teacherforce_speedup"] = BenchOutput.Round(forcedTokens / forceSeconds / (decodedTokens / decodeSeconds), 2),
            ["replay_threads"] = replayer.Options.Threads,
            ["replay_weight_repacking"] = replayer.Options.WeightRepacking,
            ["replay_positions"] = replayPositions,
            ["replay_bit_exact_positions"] = replayExact,
            ["replay_rel_l2_max"] = replayMaxError,
            ["replay_tok_s"] = BenchOutput.Round(replayPositions / replaySeconds, 1),
        });
        return 0;
    }

    private static double RelativeL2(float[] a, float[] b)
    {
        double diff = 0, norm = 0;
        for (int j = 0; j < a.Length; j++)
        {
            diff += (a[j] - (double)b[j]) * (a[j] - (double)b[j]);
            norm += a[j] * (double)a[j];
        }

        return Math.Sqrt(diff / Math.Max(norm, 1e-30));
    }

    private sealed class Recorder : IActivationObserver
    {
        public List<float[]> Hidden { get; } = [];

        public List<float[]> Logits { get; } = [];

        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
        {
        }

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
        {
            Hidden.Add(hiddenState.ToArray());
            Logits.Add(logits.ToArray());
        }
    }
}

internal static class EngineBenchmarkPaths
{
    public static string? Stories260K()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PoIP.sln")))
            {
                return Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "models", "stories260K.gguf"));
            }
        }

        return null;
    }
}
