using System.Globalization;
using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;

namespace PoIP.Benchmarks.Inference;

/// <summary>
/// How far teacher-forced re-execution sits from decoding, for any GGUF model (the hook for the
/// synthesized F16/Q8_0/Q4_K_M models): seeded sampled generations, then one teacher-forced prefill
/// of the same tokens; relative L2 error of the hidden state per position and max |Δlogit|.
/// Usage: <c>teacherforce [--model model.gguf] [--tokens N] [--runs N] [--ubatch N] [--threads N] [--kv f16|f32|q8_0] [--fa on|off]</c>
/// (model default: POIP_TF_MODEL, else stories260K).
/// </summary>
internal sealed class TeacherForcingBenchmark : IMacroBenchmark
{
    public string Name => "teacherforce";

    public string Description => "teacher-forced re-execution vs decoding: relative L2 of hidden states, max |Δlogit|";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        string? model = Environment.GetEnvironmentVariable("POIP_TF_MODEL");
        int tokens = 128, runs = 4, ubatch = 512, threads = 1;
        var kv = KvCacheType.F16;
        bool flash = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--tokens": tokens = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--ubatch": ubatch = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--kv": kv = args[++i] switch { "f32" => KvCacheType.F32, "q8_0" => KvCacheType.Q80, _ => KvCacheType.F16 }; break;
                case "--fa": flash = args[++i] == "on"; break;
                case "--model": model = args[++i]; break;
                default: model = args[i]; break;
            }
        }

        model ??= EngineBenchmarkPaths.Stories260K();
        if (model is null || !File.Exists(model))
        {
            await Console.Error.WriteLineAsync("model not found: pass a GGUF path or set POIP_TF_MODEL.");
            return 2;
        }

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
        };
        await using var engine = await LlamaInferenceEngine.LoadAsync(options, cancellationToken);
        var errors = new List<double>();
        double maxLogit = 0;
        string[] prompts = ["Once upon a time", "The little dog", "Lily and Ben went to the park", "One day, a big bird"];
        var sampling = new SamplingParameters { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.05f };
        for (int run = 0; run < runs; run++)
        {
            var prompt = engine.Tokenize(prompts[run % prompts.Length], true);
            var decoded = new Recorder();
            var output = new List<int>();
            await foreach (var token in engine.GenerateAsync(new GenerationRequest(prompt, sampling, (ulong)(run + 1), tokens), decoded, cancellationToken))
            {
                output.Add(token.TokenId);
            }

            var forced = new Recorder();
            await engine.TeacherForceAsync(prompt, output, forced, cancellationToken);
            for (int i = 0; i < output.Count; i++)
            {
                float[] a = decoded.Hidden[i], b = forced.Hidden[i];
                double diff = 0, norm = 0;
                for (int j = 0; j < a.Length; j++)
                {
                    diff += (a[j] - (double)b[j]) * (a[j] - (double)b[j]);
                    norm += a[j] * (double)a[j];
                }

                errors.Add(Math.Sqrt(diff / Math.Max(norm, 1e-30)));
                for (int j = 0; j < decoded.Logits[i].Length; j++)
                {
                    maxLogit = Math.Max(maxLogit, Math.Abs(decoded.Logits[i][j] - forced.Logits[i][j]));
                }
            }
        }

        errors.Sort();
        BenchOutput.Print(new Dictionary<string, object>
        {
            ["name"] = "teacherforce",
            ["model"] = Path.GetFileName(model),
            ["identity"] = engine.Identity.ToString(),
            ["positions"] = errors.Count,
            ["rel_l2_median"] = errors[errors.Count / 2],
            ["rel_l2_p95"] = errors[(int)(errors.Count * 0.95)],
            ["rel_l2_max"] = errors[^1],
            ["max_abs_logit_diff"] = maxLogit,
        });
        return 0;
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
