using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Security.Cryptography;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
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

    [CommandOption("--exact-prefill")]
    [Description("llama.cpp settings whose teacher-forced prefill equals decoding bit for bit on K-quant models (weight repacking off, flash attention on, micro-batch 32), as 'node run --exact-prefill': its receipts are checked with one prefill, no replay (docs/proofs.md 9b). Part of the engine identity.")]
    public bool ExactPrefill { get; init; }

    [CommandOption("--json")]
    [Description("Print one JSON object: tokens, text, model id, engine identity, timings.")]
    public bool Json { get; init; }

    [CommandOption("--receipt <FILE>")]
    [Description("Also write a receipt file for `poip verify`: the signed request, the signed receipt with its activation commitment, the prompt and the output tokens (llama engine only).")]
    public string? Receipt { get; init; }

    [CommandOption("--client-key <FILE>")]
    [Description("With --receipt: the client's key file that signs the request (created when absent). Default: an ephemeral key.")]
    public string? ClientKey { get; init; }

    [CommandOption("--key <FILE>")]
    [Description("With --receipt: the node's key file that signs the receipt. Default: the identity of `poip identity` (~/.poip/node.key).")]
    public string? NodeKey { get; init; }
}

/// <summary><c>poip generate</c>: stream text from a GGUF model through the llama.cpp engine.</summary>
internal sealed class GenerateCommand : AsyncCommand<GenerateSettings>
{
    internal static readonly JsonSerializerOptions JsonOptions = new();

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

        if (settings.ExactPrefill && settings.Engine != "llama")
        {
            await Console.Error.WriteLineAsync("error: --exact-prefill sets llama.cpp options; it needs the llama engine.");
            return 2;
        }

        if (settings.Receipt is not null && settings.Engine != "llama")
        {
            await Console.Error.WriteLineAsync("error: --receipt needs the llama engine (verifiers re-execute on llama.cpp).");
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
            if (settings.ExactPrefill)
            {
                ExactPrefillProfile.Apply(options);
            }

            await using IInferenceEngine engine = settings.Engine == "managed"
                ? await PoIP.Inference.Managed.ManagedLlamaEngine.LoadAsync(model, cancellationToken: cancellationToken)
                : await LlamaInferenceEngine.LoadAsync(options, cancellationToken);
            double loadMs = clock.Elapsed.TotalMilliseconds;
            var prompt = engine.Tokenize(settings.Prompt, addBeginOfSequence: settings.Receipt is not null || engine.Model.BeginOfSequenceToken >= 0);
            var tokens = new List<GeneratedToken>();
            double firstTokenMs = 0;
            void OnToken(GeneratedToken token)
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

            ReceiptFile? receipt = null;
            clock.Restart();
            if (settings.Receipt is null)
            {
                var request = new GenerationRequest(prompt, sampling, settings.Seed, settings.MaxTokens);
                await foreach (var token in engine.GenerateAsync(request, null, cancellationToken))
                {
                    OnToken(token);
                }
            }
            else
            {
                receipt = await IssueReceiptAsync(engine, settings, sampling, OnToken, cancellationToken);
                if (receipt is null)
                {
                    return 2;
                }
            }

            double totalMs = clock.Elapsed.TotalMilliseconds;
            if (receipt is not null)
            {
                await receipt.WriteAsync(settings.Receipt!, cancellationToken);
            }

            if (!settings.Json)
            {
                Console.WriteLine();
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"[{tokens.Count} tokens, stop {tokens[^1].Stop}, {DecodeRate(tokens.Count, totalMs, firstTokenMs):F1} tok/s decode, {engine.Identity}]"));
                if (receipt is not null)
                {
                    await Console.Error.WriteLineAsync($"[receipt {ReceiptId.FromEnvelope(receipt.Receipt.Envelope.Encoded.Span)} for request {receipt.Receipt.Message.RequestId}, node {receipt.Receipt.Signer}, written to {settings.Receipt}]");
                }

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
                ["receipt_file"] = receipt is null ? null : Path.GetFullPath(settings.Receipt!),
                ["request_id"] = receipt?.Receipt.Message.RequestId.ToString(),
                ["receipt_id"] = receipt is null ? null : ReceiptId.FromEnvelope(receipt.Receipt.Envelope.Encoded.Span).ToString(),
                ["node_id"] = receipt?.Receipt.Signer.ToString(),
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
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (settings.Receipt is not null && ex is IOException or UnauthorizedAccessException or PoIPException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Signs a request (client key), serves it like a node (commitment recorded while decoding) and signs the receipt (node key).</summary>
    private static async Task<ReceiptFile?> IssueReceiptAsync(IInferenceEngine engine, GenerateSettings settings, SamplingParameters sampling, Action<GeneratedToken> onToken, CancellationToken cancellationToken)
    {
        using var client = settings.ClientKey is null ? Ed25519KeyPair.Generate() : KeyFile.ReadOrCreate(settings.ClientKey);
        using var node = KeyFile.ReadOrCreate(settings.NodeKey ?? new IdentitySettings().ResolveKeyFile());
        if (settings.MaxTokens is < 1 or > InferenceRequest.MaxOutputTokens)
        {
            await Console.Error.WriteLineAsync($"error: --max-tokens must be in [1, {InferenceRequest.MaxOutputTokens}] for a receipt.");
            return null;
        }

        var now = TimeProvider.System.GetUtcNow();
        var request = SignedMessage.Create(client, InferenceRequest.ForPrompt(
            settings.Prompt!, engine.Model.Id, client.PeerId, sampling, settings.Seed, settings.MaxTokens, TokenAmount.Zero,
            BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)), now.AddHours(1)));
        return await ReceiptIssuer.IssueAsync(engine, node, request, settings.Prompt!, TokenAmount.Zero, TimeProvider.System, onToken, cancellationToken);
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
