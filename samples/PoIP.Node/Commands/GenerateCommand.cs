using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class GenerateSettings : CommandSettings
{
    [CommandOption("--model <FILE>")]
    [Description("GGUF model. Default: POIP_MODEL, else ../shared/models/stories260K.gguf beside the repository root.")]
    public string? Model { get; init; }

    [CommandOption("--prompt <TEXT>")]
    [Description("The prompt (required).")]
    public string? Prompt { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Sampler seed (default 1).")]
    public ulong Seed { get; init; } = 1;

    [CommandOption("--max-tokens <N>")]
    [Description("Most tokens to generate (default 128).")]
    public int MaxTokens { get; init; } = 128;

    [CommandOption("--temperature <T>")]
    [Description("0 = greedy (default 0.8).")]
    public float Temperature { get; init; } = 0.8f;

    [CommandOption("--top-k <K>")]
    [Description("Keep the K best tokens; 0 disables (default 40).")]
    public int TopK { get; init; } = 40;

    [CommandOption("--top-p <P>")]
    [Description("Nucleus mass; 1 disables (default 0.95).")]
    public float TopP { get; init; } = 0.95f;

    [CommandOption("--min-p <P>")]
    [Description("Drop tokens below P x the best; 0 disables (default 0.05).")]
    public float MinP { get; init; } = 0.05f;

    [CommandOption("--repeat-penalty <R>")]
    [Description("Repetition penalty; 1 disables (default 1).")]
    public float RepeatPenalty { get; init; } = 1f;

    [CommandOption("--stop <TEXT>")]
    [Description("Stop sequence (repeatable, at most 8).")]
    public string[] Stop { get; init; } = [];

    [CommandOption("--threads <N>")]
    [Description("CPU threads (default: all cores).")]
    public int Threads { get; init; }

    [CommandOption("--ctx <N>")]
    [Description("Context size (default 2048).")]
    public int ContextSize { get; init; } = 2048;

    [CommandOption("--cpu-variant <V>")]
    [Description("auto, avx512, avx2, avx, noavx (default auto).")]
    public string CpuVariant { get; init; } = "auto";

    [CommandOption("--engine <NAME>")]
    [Description("llama (default) or managed.")]
    public string Engine { get; init; } = "llama";

    [CommandOption("--json")]
    [Description("Print one JSON object: tokens, text, model id, engine identity, timings.")]
    public bool Json { get; init; }
}

/// <summary><c>poip generate</c>: stream text from a GGUF model through the llama.cpp engine.</summary>
internal sealed class GenerateCommand : AsyncCommand<GenerateSettings>
{
    internal static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public override async Task<int> ExecuteAsync(CommandContext context, GenerateSettings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(settings.Prompt))
        {
            await Console.Error.WriteLineAsync("error: --prompt is required.");
            return 2;
        }

        if (settings.Engine is not ("llama" or "managed"))
        {
            await Console.Error.WriteLineAsync($"error: unknown engine '{settings.Engine}' (llama or managed).");
            return 2;
        }

        if (!TryParseVariant(settings.CpuVariant, out var variant))
        {
            await Console.Error.WriteLineAsync($"error: unknown CPU variant '{settings.CpuVariant}' (auto, avx512, avx2, avx, noavx).");
            return 2;
        }

        string model = ModelLocator.Resolve(settings.Model);
        var sampling = new SamplingParameters
        {
            Temperature = settings.Temperature,
            TopK = settings.TopK,
            TopP = settings.TopP,
            MinP = settings.MinP,
            RepetitionPenalty = settings.RepeatPenalty,
            StopSequences = settings.Stop,
        };

        try
        {
            var clock = Stopwatch.StartNew();
            var options = new LlamaEngineOptions
            {
                ModelPath = model,
                Threads = settings.Threads,
                ContextSize = settings.ContextSize,
                CpuVariant = variant,
                MaxConcurrentSequences = 1,
                MaxPromptTokens = settings.ContextSize - 1,
                MaxOutputTokens = settings.ContextSize,
            };
            await using IInferenceEngine engine = settings.Engine == "managed"
                ? await PoIP.Inference.Managed.ManagedLlamaEngine.LoadAsync(model, cancellationToken: cancellationToken)
                : await LlamaInferenceEngine.LoadAsync(options, cancellationToken);
            double loadMs = clock.Elapsed.TotalMilliseconds;
            var prompt = engine.Tokenize(settings.Prompt, addBeginOfSequence: engine.Model.BeginOfSequenceToken >= 0);
            var request = new GenerationRequest(prompt, sampling, settings.Seed, settings.MaxTokens);
            var tokens = new List<GeneratedToken>();
            clock.Restart();
            double firstTokenMs = 0;
            await foreach (var token in engine.GenerateAsync(request, null, cancellationToken))
            {
                if (tokens.Count == 0)
                {
                    firstTokenMs = clock.Elapsed.TotalMilliseconds;
                }

                tokens.Add(token);
                if (!settings.Json)
                {
                    Console.Write(token.Piece);
                }
            }

            double totalMs = clock.Elapsed.TotalMilliseconds;
            if (!settings.Json)
            {
                Console.WriteLine();
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"[{tokens.Count} tokens, stop {tokens[^1].Stop}, {DecodeRate(tokens.Count, totalMs, firstTokenMs):F1} tok/s decode, {engine.Identity}]"));
                return 0;
            }

            var document = new Dictionary<string, object?>
            {
                ["model"] = model,
                ["model_id"] = engine.Model.Id.ToString(),
                ["engine"] = engine.Identity.ToString(),
                ["engine_identity"] = engine.Identity,
                ["seed"] = settings.Seed,
                ["sampling"] = sampling,
                ["prompt_tokens"] = prompt,
                ["tokens"] = tokens.Select(t => t.TokenId).ToArray(),
                ["pieces"] = tokens.Select(t => t.Piece).ToArray(),
                ["text"] = string.Concat(tokens.Select(t => t.Piece)),
                ["stop_reason"] = tokens[^1].Stop.ToString(),
                ["timings"] = new Dictionary<string, double>
                {
                    ["load_ms"] = Math.Round(loadMs, 2),
                    ["prefill_ms"] = Math.Round(firstTokenMs, 2),
                    ["total_ms"] = Math.Round(totalMs, 2),
                    ["prefill_tok_s"] = Math.Round(prompt.Count / Math.Max(firstTokenMs, 1e-3) * 1000, 1),
                    ["decode_tok_s"] = Math.Round(DecodeRate(tokens.Count, totalMs, firstTokenMs), 1),
                },
            };
            Console.WriteLine(JsonSerializer.Serialize(document, JsonOptions));
            return 0;
        }
        catch (EngineException ex)
        {
            await Console.Error.WriteLineAsync($"error [{ex.Code}]: {ex.Message}");
            return 1;
        }
    }

    private static double DecodeRate(int tokens, double totalMs, double firstTokenMs) =>
        tokens > 1 ? (tokens - 1) / Math.Max(totalMs - firstTokenMs, 1e-3) * 1000 : 0;

    internal static bool TryParseVariant(string text, out LlamaCpuVariant variant)
    {
        variant = text.ToLowerInvariant() switch
        {
            "auto" => LlamaCpuVariant.Auto,
            "avx512" => LlamaCpuVariant.Avx512,
            "avx2" => LlamaCpuVariant.Avx2,
            "avx" => LlamaCpuVariant.Avx,
            "noavx" => LlamaCpuVariant.NoAvx,
            _ => (LlamaCpuVariant)(-1),
        };
        return Enum.IsDefined(variant);
    }
}
