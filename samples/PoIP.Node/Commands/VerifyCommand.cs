using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Proofs;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class VerifySettings : CommandSettings
{
    [CommandOption("--model <FILE>")]
    [Description("The GGUF model the receipt claims (its SHA-256 must be the receipt's model id). Default: POIP_MODEL, else ../shared/models/stories260K.gguf.")]
    public string? Model { get; init; }

    [CommandOption("--receipt <FILE>")]
    [Description("Receipt file written by `poip generate --receipt` (required).")]
    public string? Receipt { get; init; }

    [CommandOption("--threads <N>")]
    [Description("CPU threads (default: all cores; thread count does not change the numbers).")]
    public int Threads { get; init; }

    [CommandOption("--cpu-variant <V>")]
    [Description("receipt (default: the variant the receipt names), auto, avx512, avx2, avx, noavx.")]
    public string CpuVariant { get; init; } = "receipt";

    [CommandOption("--cross-variant")]
    [Description("Accept a receipt computed on another CPU variant (to measure cross-variant agreement; the engine standard requires the same variant, so a verdict here is advisory).")]
    public bool CrossVariant { get; init; }

    [CommandOption("--ubatch <N>")]
    [Description("Prefill micro-batch (default: the receipt's; the engine standard lets a verifier choose it).")]
    public int? Ubatch { get; init; }

    [CommandOption("--json")]
    [Description("Print one JSON object: outcome, reason, first failing position, detail, ids, timing.")]
    public bool Json { get; init; }
}

/// <summary>
/// <c>poip verify</c>: re-executes a receipt file's transaction on llama.cpp with <see cref="ReexecutionVerifier"/>.
/// Exit codes: 0 valid; 3 fraud (reason and first failing position printed); 2 malformed input
/// (unreadable, oversize, truncated or badly signed file; a receipt for another model or engine; a file
/// whose prompt or tokens do not match what was signed); 1 an engine fault; 4 undecided (a sampling
/// dispute that the decoding replay could not settle here, e.g. with <c>--ubatch</c> below the receipt's).
/// </summary>
internal sealed class VerifyCommand : AsyncCommand<VerifySettings>
{
    internal const int ExitValid = 0;
    internal const int ExitFault = 1;
    internal const int ExitMalformed = 2;
    internal const int ExitFraud = 3;
    internal const int ExitUndecided = 4;

    public override async Task<int> ExecuteAsync(CommandContext context, VerifySettings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(settings.Receipt))
        {
            return await MalformedAsync(settings, "input.missing", "--receipt is required.");
        }

        ReceiptFile file;
        try
        {
            file = await ReceiptFile.ReadAsync(settings.Receipt, cancellationToken);
        }
        catch (PoIPException ex) when (ex is PoIPDecodeException or SignatureException)
        {
            return await MalformedAsync(settings, ex.Code, $"{settings.Receipt}: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return await MalformedAsync(settings, "input.unreadable", ex.Message);
        }

        var claimed = file.Receipt.Message;
        string model = ModelLocator.Resolve(settings.Model);
        if (!File.Exists(model))
        {
            return await MalformedAsync(settings, "model.missing", $"model file {model} not found.");
        }

        if (claimed.Engine.Engine != "llama.cpp" || claimed.Engine.Backend != "cpu")
        {
            return await MalformedAsync(settings, "engine.unsupported", $"the receipt was computed on {claimed.Engine}; poip verify re-executes on llama.cpp's CPU backend only.");
        }

        if (!TryKvType(claimed.Engine.KvCacheType, out var kv))
        {
            return await MalformedAsync(settings, "engine.unsupported", $"the receipt names an unknown KV-cache type '{claimed.Engine.KvCacheType}'.");
        }

        string variantName = settings.CpuVariant == "receipt" ? claimed.Engine.CpuVariant : settings.CpuVariant;

        // A node with llama.cpp's weight repacking off reports e.g. "avx512-norepack" (its decoding kernels differ).
        const string NoRepack = "-norepack";
        bool repack = !claimed.Engine.CpuVariant.EndsWith(NoRepack, StringComparison.Ordinal);
        if (variantName.EndsWith(NoRepack, StringComparison.Ordinal))
        {
            variantName = variantName[..^NoRepack.Length];
        }

        if (!GenerateCommand.TryParseVariant(variantName, out var variant))
        {
            return await MalformedAsync(settings, "engine.unsupported", $"unknown CPU variant '{variantName}'.");
        }

        int contextSize = (int)Math.Min(131_072, Math.Max(2048, System.Text.Encoding.UTF8.GetByteCount(file.Prompt) + file.OutputTokens.Count + 8));
        var options = new LlamaEngineOptions
        {
            ModelPath = model,
            Threads = settings.Threads,
            ContextSize = contextSize,
            CpuVariant = variant,
            FlashAttention = claimed.Engine.FlashAttention,
            WeightRepacking = repack,
            KvCacheType = kv,
            MicroBatchSize = Math.Clamp(settings.Ubatch ?? claimed.Engine.Ubatch, 1, 4096),
            MaxConcurrentSequences = 1,
            MaxQueuedRequests = 0,
            MaxPromptTokens = contextSize - 1,
            MaxOutputTokens = contextSize,
        };

        try
        {
            await using var engine = await LlamaInferenceEngine.LoadAsync(options, cancellationToken);
            if (engine.Model.Id != claimed.ModelId)
            {
                return await MalformedAsync(settings, "model.mismatch", $"the receipt is for model {claimed.ModelId}; {model} is {engine.Model.Id}.");
            }

            Func<EngineIdentity, EngineIdentity, bool> compatible = settings.CrossVariant
                ? (c, v) => ReexecutionVerifierOptions.DefaultEngineCompatibility(c with { CpuVariant = v.CpuVariant }, v)
                : ReexecutionVerifierOptions.DefaultEngineCompatibility;
            if (!compatible(claimed.Engine, engine.Identity))
            {
                return await MalformedAsync(settings, "engine.mismatch", $"the receipt was computed on {claimed.Engine}; this machine runs {engine.Identity} (try --cpu-variant).");
            }

            var clock = Stopwatch.StartNew();
            var report = await new ReexecutionVerifier(engine, VerifierCalibration.ForModel(model) with { EngineCompatibility = compatible }).VerifyWithDetailsAsync(file.ToVerificationCase(), cancellationToken);
            double verifyMs = clock.Elapsed.TotalMilliseconds;
            var result = report.Result;
            int exit = result.Outcome switch
            {
                VerdictOutcome.Valid => ExitValid,
                VerdictOutcome.Fraud => ExitFraud,
                _ when result.Reason == FraudReason.None => ExitFault, // the re-execution itself failed
                _ when result.Reason == FraudReason.SamplingMismatch => ExitUndecided,
                _ => ExitMalformed,
            };
            Report(settings, file, engine.Identity, report, exit, verifyMs);
            return exit;
        }
        catch (EngineException ex)
        {
            await Console.Error.WriteLineAsync($"error [{ex.Code}]: {ex.Message}");
            return ExitFault;
        }
    }

    private static void Report(VerifySettings settings, ReceiptFile file, EngineIdentity engine, ReexecutionReport report, int exit, double verifyMs)
    {
        var result = report.Result;
        var forced = report.TeacherForced?.Result;
        var receipt = file.Receipt.Message;
        string receiptId = ReceiptId.FromEnvelope(file.Receipt.Envelope.Encoded.Span).ToString();
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["outcome"] = result.Outcome.ToString().ToLowerInvariant(),
                ["reason"] = result.Reason.ToString(),
                ["first_failing_position"] = result.FirstFailingPosition,
                ["detail"] = result.Detail,
                ["exit_code"] = exit,
                ["model_id"] = receipt.ModelId.ToString(),
                ["node_id"] = receipt.NodeId.ToString(),
                ["client_id"] = file.Request.Message.ClientId.ToString(),
                ["request_id"] = receipt.RequestId.ToString(),
                ["receipt_id"] = receiptId,
                ["output_tokens"] = file.OutputTokens.Count,
                ["stop_reason"] = receipt.StopReason.ToString(),
                ["engine"] = engine.ToString(),
                ["slack_used"] = report.SlackUsed,
                ["teacher_forced"] = forced is null ? null : $"{forced.Outcome} {forced.Reason} at {forced.FirstFailingPosition}",
                ["replay_exact"] = report.ReplayExact,
                ["verify_ms"] = Math.Round(verifyMs, 2),
            }, GenerateCommand.JsonOptions));
            return;
        }

        string summary = result.Outcome switch
        {
            VerdictOutcome.Valid => "VALID",
            VerdictOutcome.Fraud => $"FRAUD ({result.Reason}, first failing position {result.FirstFailingPosition})",
            _ => $"CANNOT VERIFY ({result.Reason})",
        };
        Console.WriteLine($"{summary}: {result.Detail}");
        Console.Error.WriteLine($"[receipt {receiptId}, node {receipt.NodeId}, {file.OutputTokens.Count} tokens, {verifyMs:F1} ms on {engine}]");
    }

    private static async Task<int> MalformedAsync(VerifySettings settings, string code, string detail)
    {
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["outcome"] = "malformed",
                ["error"] = code,
                ["detail"] = detail,
                ["exit_code"] = ExitMalformed,
            }, GenerateCommand.JsonOptions));
        }
        else
        {
            await Console.Error.WriteLineAsync($"error [{code}]: {detail}");
        }

        return ExitMalformed;
    }

    private static bool TryKvType(string name, out KvCacheType type)
    {
        type = name switch
        {
            "f16" => KvCacheType.F16,
            "f32" => KvCacheType.F32,
            "q8_0" => KvCacheType.Q80,
            _ => (KvCacheType)(-1),
        };
        return Enum.IsDefined(type);
    }
}
