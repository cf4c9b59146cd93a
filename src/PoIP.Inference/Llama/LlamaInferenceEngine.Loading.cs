using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using LLama.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;

namespace PoIP.Inference.Llama;

public sealed partial class LlamaInferenceEngine
{
    /// <summary>Appended to the identity's CPU variant when weight repacking is off (e.g. <c>avx512-norepack</c>).</summary>
    internal const string NoRepackSuffix = "-norepack";

    /// <summary>Validates the options, loads the native library and the model, and creates the sequence contexts (no logging; metrics on a meter of its own).</summary>
    /// <exception cref="EngineException">Invalid options, missing/corrupt/unsupported model, native load failure.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the cancellation token is optional in both overloads; no call binds ambiguously.")]
    public static Task<LlamaInferenceEngine> LoadAsync(LlamaEngineOptions options, CancellationToken cancellationToken = default) =>
        LoadAsync(options, logger: null, meterFactory: null, cancellationToken);

    /// <summary>Validates the options, loads the native library and the model, and creates the sequence contexts.</summary>
    /// <param name="options">The engine options.</param>
    /// <param name="logger">Where the engine logs (load, busy refusals, per-generation summaries at Debug); null = nowhere.</param>
    /// <param name="meterFactory">Creates the <see cref="MeterName"/> meter (DI hosts pass theirs); null = the engine creates and disposes its own meter.</param>
    /// <param name="cancellationToken">Cancels hashing and loading.</param>
    /// <exception cref="EngineException">Invalid options, missing/corrupt/unsupported model, native load failure.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the cancellation token is optional in both overloads; no call binds ambiguously.")]
    public static async Task<LlamaInferenceEngine> LoadAsync(LlamaEngineOptions options, ILogger? logger, IMeterFactory? meterFactory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options with { }; // the engine's own copy: the caller's (settable) options may change later
        string? problem = options.Validate();
        if (problem is not null)
        {
            throw new EngineException(EngineErrorCodes.InvalidOptions, "invalid engine options: " + problem);
        }

        string path = Path.GetFullPath(options.ModelPath);
        if (!File.Exists(path))
        {
            throw new EngineException(EngineErrorCodes.ModelNotFound, $"model file not found: {path}");
        }

        string? architecture = GgufProbe.ReadArchitecture(path);
        if (architecture is not null && !options.AllowedArchitectures.Contains(architecture, StringComparer.Ordinal))
        {
            throw new EngineException(EngineErrorCodes.UnsupportedArchitecture, $"model {path} has architecture '{architecture}'; this engine serves {string.Join(", ", options.AllowedArchitectures)}.");
        }

        ModelId id = await ModelId.FromFileAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (options.ExpectedModelSha256 is { } expected && !string.Equals(expected, id.ToString(), StringComparison.OrdinalIgnoreCase))
        {
            throw new EngineException(EngineErrorCodes.ModelHashMismatch, $"model {path} has SHA-256 {id}, expected {expected.ToLowerInvariant()}.");
        }

        NativeLibraryInfo native = NativeBackend.EnsureLoaded(options.CpuVariant);
        logger ??= NullLogger.Instance;
        var engine = await Task.Run(() => Create(options, path, id, native, architecture ?? "unknown", logger, meterFactory), cancellationToken).ConfigureAwait(false);
        Log.EngineLoaded(logger, path, id.ToString(), engine.Model.LayerCount, engine.Model.EmbeddingLength, engine.Model.VocabularySize, engine.Identity.ToString(), options.MaxConcurrentSequences, options.ContextSize);
        return engine;
    }

    private static LlamaInferenceEngine Create(LlamaEngineOptions options, string path, ModelId id, NativeLibraryInfo native, string architecture, ILogger logger, IMeterFactory? meterFactory)
    {
        var modelParams = LLamaModelParams.Default();
        modelParams.n_gpu_layers = options.GpuLayers;
        modelParams.use_extra_bufts = options.WeightRepacking;
        NativeBackend.TakeLastError();
        SafeLlamaModelHandle model;
        try
        {
            model = SafeLlamaModelHandle.LoadFromFile(path, modelParams);
        }
        catch (Exception ex) when (ex is LLama.Exceptions.LoadWeightsFailedException or LLama.Exceptions.RuntimeError)
        {
            string? detail = NativeBackend.TakeLastError();
            throw new EngineException(EngineErrorCodes.ModelLoadFailed, $"llama.cpp could not load {path}: {detail ?? ex.Message}", innerException: ex);
        }

        var sequences = new List<LlamaSequence>();
        try
        {
            // llama.cpp c0c7e147 crashes (segfault) on a quantised KV cache whose head rows are not whole
            // 32-element blocks (e.g. stories260K: head dimension 8): refuse it before it can.
            int headDimension = model.HeadCount > 0 ? model.EmbeddingSize / model.HeadCount : 0;
            if (options.KvCacheType == KvCacheType.Q80 && (headDimension == 0 || headDimension % 32 != 0))
            {
                throw new EngineException(EngineErrorCodes.InvalidOptions, $"a q8_0 KV cache needs an attention head dimension that is a multiple of 32; model {path} has {headDimension}.");
            }

            var vocabulary = model.Vocab;
            int vocabularySize = vocabulary.Count;
            int bos = vocabulary.BOS is { } b ? (int)b : -1;
            int eos = vocabulary.EOS is { } e ? (int)e : -1;
            var descriptor = new ModelDescriptor(id, architecture, vocabularySize, model.EmbeddingSize, model.LayerCount, model.ContextSize, bos, eos);
            var pieces = new Utf8Pieces(model, vocabularySize);
            int threads = options.Threads == 0 ? Environment.ProcessorCount : options.Threads;
            for (int i = 0; i < options.MaxConcurrentSequences; i++)
            {
                var contextParams = LLamaContextParams.Default();
                contextParams.n_ctx = (uint)options.ContextSize;
                contextParams.n_batch = (uint)options.MicroBatchSize;
                contextParams.n_ubatch = (uint)options.MicroBatchSize;
                contextParams.n_seq_max = 1;
                contextParams.n_threads = threads;
                contextParams.n_threads_batch = threads;
                contextParams.embeddings = true;
                contextParams.llama_pooling_type = LLamaPoolingType.None;
                contextParams.llama_flash_attn_type = options.FlashAttention ? LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_ENABLED : LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
                contextParams.type_k = contextParams.type_v = options.KvCacheType switch
                {
                    KvCacheType.F32 => GGMLType.GGML_TYPE_F32,
                    KvCacheType.Q80 => GGMLType.GGML_TYPE_Q8_0,
                    _ => GGMLType.GGML_TYPE_F16,
                };
                SafeLLamaContextHandle context;
                try
                {
                    context = SafeLLamaContextHandle.Create(model, contextParams);
                }
                catch (LLama.Exceptions.RuntimeError ex)
                {
                    string? detail = NativeBackend.TakeLastError();
                    throw new EngineException(EngineErrorCodes.ContextCreateFailed, $"llama.cpp could not create a context of {options.ContextSize} tokens: {detail ?? ex.Message}", innerException: ex);
                }

                sequences.Add(new LlamaSequence(context, pieces, vocabularySize, eos, options.MicroBatchSize, options.AdditionalEndTokens, serialiseDecodes: native.Backend != "cpu"));
            }

            // A GPU build can offload large operations even with no layers on the GPU: report what is loaded.
            // Weight repacking changes the kernels (and numbers) of decoding itself: an engine without it is another identity.
            string variant = options.WeightRepacking ? native.CpuVariant : native.CpuVariant + NoRepackSuffix;
            var identity = new EngineIdentity("llama.cpp", native.Build, native.Backend, variant, options.FlashAttention, KvName(options.KvCacheType), options.MicroBatchSize);
            bool prefillExact = native.Backend == "cpu" && !options.WeightRepacking && options.FlashAttention && options.KvCacheType == KvCacheType.F16
                && options.MicroBatchSize <= MaxExactPrefillMicroBatch && KQuantWeightsOnly(path);
            return new LlamaInferenceEngine(options, model, [.. sequences], pieces, descriptor, identity, native, logger, new EngineMetrics(meterFactory)) { PrefillMatchesDecoding = prefillExact };
        }
        catch
        {
            foreach (var sequence in sequences)
            {
                sequence.Dispose();
            }

            model.Dispose();
            throw;
        }
    }

    /// <summary>Whether every weight matrix (every tensor of two or more dimensions) of the GGUF file is a K-quant (Q2_K to Q6_K).</summary>
    private static bool KQuantWeightsOnly(string path)
    {
        try
        {
            using var file = Gguf.GgufFile.Open(path);
            return file.Tensors.Where(t => t.Dimensions.Count >= 2).All(t => t.Type is Gguf.GgufTensorType.Q2_K or Gguf.GgufTensorType.Q3_K or Gguf.GgufTensorType.Q4_K or Gguf.GgufTensorType.Q5_K or Gguf.GgufTensorType.Q6_K);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidDataException or PoIPDecodeException)
        {
            return false; // llama.cpp loaded it, this reader did not: never claim exactness
        }
    }

    private static string KvName(KvCacheType type) => type switch
    {
        KvCacheType.F32 => "f32",
        KvCacheType.Q80 => "q8_0",
        _ => "f16",
    };
}
