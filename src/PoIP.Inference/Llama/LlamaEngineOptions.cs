namespace PoIP.Inference.Llama;

/// <summary>
/// Options of <see cref="LlamaInferenceEngine"/>, validated when the engine starts. Everything that
/// changes the computed numbers (CPU variant, flash attention, KV-cache type, micro-batch) ends up in
/// the engine's <see cref="PoIP.Core.Engine.EngineIdentity"/>. Settable, so that a host binds them with
/// the options pattern (<c>AddLlamaEngine(o =&gt; ...)</c>, configuration); the engine keeps its own copy.
/// </summary>
public sealed record LlamaEngineOptions
{
    /// <summary>Path of the GGUF model file (required).</summary>
    public string ModelPath { get; set; } = string.Empty;

    /// <summary>CPU threads per decode; 0 = all logical cores. Range [0, 512].</summary>
    public int Threads { get; set; }

    /// <summary>Layers offloaded to a GPU when a GPU backend (CUDA) is loaded; 0 = CPU only. Range [0, 1000].</summary>
    public int GpuLayers { get; set; }

    /// <summary>Context window per sequence, in tokens. Range [16, 131072]; default 2048.</summary>
    public int ContextSize { get; set; } = 2048;

    /// <summary>SIMD variant of llama.cpp to load; process-wide (the first engine loads the library).</summary>
    public LlamaCpuVariant CpuVariant { get; set; } = LlamaCpuVariant.Auto;

    /// <summary>Flash attention on or off (never "auto": auto changes the numbers behind your back). Default off.</summary>
    public bool FlashAttention { get; set; }

    /// <summary>KV-cache element type. Default F16.</summary>
    public KvCacheType KvCacheType { get; set; } = KvCacheType.F16;

    /// <summary>
    /// llama.cpp's CPU weight repacking (<c>use_extra_bufts</c>: quantised weights rearranged into
    /// interleaved layouts with separate one-row and many-row kernels). Default on (llama.cpp's default).
    /// Off, every quantised matrix product takes the per-row dot-product path whatever the batch size.
    /// </summary>
    public bool WeightRepacking { get; set; } = true;

    /// <summary>Prefill micro-batch (<c>n_ubatch</c>, also used as <c>n_batch</c>). Range [1, 4096]; default 512.</summary>
    public int MicroBatchSize { get; set; } = 512;

    /// <summary>Largest prompt, in tokens. Range [1, ContextSize - 1]; default 1024.</summary>
    public int MaxPromptTokens { get; set; } = 1024;

    /// <summary>Largest output, in tokens. Range [1, ContextSize]; default 1024.</summary>
    public int MaxOutputTokens { get; set; } = 1024;

    /// <summary>Sequences computed at once (one llama.cpp context each). Range [1, 64]; default 2.</summary>
    public int MaxConcurrentSequences { get; set; } = 2;

    /// <summary>Requests allowed to wait for a free sequence; more get <see cref="EngineErrorCodes.Busy"/>. Range [0, 4096]; default 16.</summary>
    public int MaxQueuedRequests { get; set; } = 16;

    /// <summary>Architectures (<c>general.architecture</c>) the engine serves. Default <c>llama</c>.</summary>
    public IReadOnlyList<string> AllowedArchitectures { get; set; } = ["llama"];

    /// <summary>
    /// Token ids that end generation like EOS (reported as <see cref="PoIP.Core.Engine.StopReason.EndOfSequence"/>,
    /// the token yielded last). Useful for llama2.c-style models such as stories260K, which separate
    /// stories with BOS and were never trained to emit EOS. At most 16. Default none.
    /// </summary>
    public IReadOnlyList<int> AdditionalEndTokens { get; set; } = [];

    /// <summary>When set, the model file's SHA-256 (hex) must equal it.</summary>
    public string? ExpectedModelSha256 { get; set; }

    /// <summary>Returns the first problem, or null when the options are valid.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
        {
            return "model path is required.";
        }

        if (Threads is < 0 or > 512)
        {
            return $"threads must be in [0, 512], got {Threads}.";
        }

        if (GpuLayers is < 0 or > 1000)
        {
            return $"GPU layers must be in [0, 1000], got {GpuLayers}.";
        }

        if (ContextSize is < 16 or > 131_072)
        {
            return $"context size must be in [16, 131072], got {ContextSize}.";
        }

        if (!Enum.IsDefined(CpuVariant))
        {
            return $"unknown CPU variant {CpuVariant}.";
        }

        if (!Enum.IsDefined(KvCacheType))
        {
            return $"unknown KV-cache type {KvCacheType}.";
        }

        if (KvCacheType == KvCacheType.Q80 && !FlashAttention)
        {
            return "a Q8_0 KV cache needs flash attention on in llama.cpp.";
        }

        if (MicroBatchSize is < 1 or > 4096)
        {
            return $"micro-batch size must be in [1, 4096], got {MicroBatchSize}.";
        }

        if (MaxPromptTokens < 1 || MaxPromptTokens >= ContextSize)
        {
            return $"max prompt tokens must be in [1, {ContextSize - 1}], got {MaxPromptTokens}.";
        }

        if (MaxOutputTokens < 1 || MaxOutputTokens > ContextSize)
        {
            return $"max output tokens must be in [1, {ContextSize}], got {MaxOutputTokens}.";
        }

        if (MaxConcurrentSequences is < 1 or > 64)
        {
            return $"max concurrent sequences must be in [1, 64], got {MaxConcurrentSequences}.";
        }

        if (MaxQueuedRequests is < 0 or > 4096)
        {
            return $"max queued requests must be in [0, 4096], got {MaxQueuedRequests}.";
        }

        if (AllowedArchitectures is null || AllowedArchitectures.Count == 0)
        {
            return "at least one allowed architecture is required.";
        }

        if (AdditionalEndTokens is null || AdditionalEndTokens.Count > 16 || AdditionalEndTokens.Any(t => t < 0))
        {
            return "additional end tokens: at most 16 non-negative token ids.";
        }

        if (ExpectedModelSha256 is { } hex && (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit)))
        {
            return "expected model SHA-256 must be 64 hex digits.";
        }

        return null;
    }
}
