using PoIP.Inference.Llama;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// The llama.cpp engine of a node or validator, as settable options (for <c>Configure</c> and config
/// files); turned into <see cref="LlamaEngineOptions"/> and validated at start.
/// </summary>
public sealed class LlamaEngineServiceOptions
{
    /// <summary>GGUF model file (required).</summary>
    public string ModelPath { get; set; } = string.Empty;

    /// <summary>CPU threads per decode; 0 = all logical cores.</summary>
    public int Threads { get; set; }

    /// <summary>Layers offloaded to a GPU when a GPU backend is loaded.</summary>
    public int GpuLayers { get; set; }

    /// <summary>Context window per sequence, in tokens. Default 2048.</summary>
    public int ContextSize { get; set; } = 2048;

    /// <summary>SIMD variant of llama.cpp (process-wide). Default auto.</summary>
    public LlamaCpuVariant CpuVariant { get; set; } = LlamaCpuVariant.Auto;

    /// <summary>Flash attention on or off (never auto). Default off.</summary>
    public bool FlashAttention { get; set; }

    /// <summary>KV-cache element type. Default F16.</summary>
    public KvCacheType KvCacheType { get; set; } = KvCacheType.F16;

    /// <summary>Prefill micro-batch. Default 512.</summary>
    public int MicroBatchSize { get; set; } = 512;

    /// <summary>Largest prompt in tokens. Default 1024.</summary>
    public int MaxPromptTokens { get; set; } = 1024;

    /// <summary>Largest output in tokens. Default 1024.</summary>
    public int MaxOutputTokens { get; set; } = 1024;

    /// <summary>Sequences computed at once. Default 2.</summary>
    public int MaxConcurrentSequences { get; set; } = 2;

    /// <summary>Requests allowed to wait for a free sequence. Default 16.</summary>
    public int MaxQueuedRequests { get; set; } = 16;

    /// <summary>When set, the model file's SHA-256 (hex) must equal it.</summary>
    public string? ExpectedModelSha256 { get; set; }

    /// <summary>What the node does about the known-answer test. Default <see cref="KnownAnswerPolicy.IfAvailable"/>.</summary>
    public KnownAnswerPolicy KnownAnswer { get; set; } = KnownAnswerPolicy.IfAvailable;

    /// <summary>
    /// stories260K.gguf for the known-answer test when <see cref="ModelPath"/> is another model (the KAT
    /// runs on it with this engine's CPU variant, flash attention, KV type and GPU layers). Default none.
    /// </summary>
    public string? KnownAnswerModelPath { get; set; }

    /// <summary>The engine options these settings describe.</summary>
    public LlamaEngineOptions ToEngineOptions() => new()
    {
        ModelPath = ModelPath,
        Threads = Threads,
        GpuLayers = GpuLayers,
        ContextSize = ContextSize,
        CpuVariant = CpuVariant,
        FlashAttention = FlashAttention,
        KvCacheType = KvCacheType,
        MicroBatchSize = MicroBatchSize,
        MaxPromptTokens = MaxPromptTokens,
        MaxOutputTokens = MaxOutputTokens,
        MaxConcurrentSequences = MaxConcurrentSequences,
        MaxQueuedRequests = MaxQueuedRequests,
        ExpectedModelSha256 = ExpectedModelSha256,
    };
}
