namespace PoIP.Inference.Managed;

/// <summary>Options of <see cref="ManagedLlamaEngine"/>.</summary>
public sealed record ManagedLlamaEngineOptions
{
    /// <summary>Context window in tokens; 0 means the model's trained context, capped at 4096. Default 0.</summary>
    public int ContextLength { get; init; }

    /// <summary>
    /// Element type of the KV cache: <c>f16</c> (default; rounds keys, values, queries and attention
    /// weights to half precision exactly where llama.cpp's default F16 cache does, which brings the
    /// two engines closest) or <c>f32</c>.
    /// </summary>
    public string KvCacheType { get; init; } = "f16";

    /// <summary>Longest text <see cref="ManagedLlamaEngine.Tokenize"/> accepts, in UTF-16 characters. Default 1,048,576.</summary>
    public int MaxTextLength { get; init; } = 1 << 20;

    /// <summary>Most threads one matrix-vector product uses; 0 means all cores. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; }

    internal void Validate()
    {
        if (ContextLength < 0 || ContextLength > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(ContextLength), "ContextLength must be in [0, 1048576].");
        }

        if (KvCacheType is not ("f16" or "f32"))
        {
            throw new ArgumentOutOfRangeException(nameof(KvCacheType), "KvCacheType must be f16 or f32.");
        }

        if (MaxTextLength <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTextLength), "MaxTextLength must be positive.");
        }

        if (MaxDegreeOfParallelism < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), "MaxDegreeOfParallelism must not be negative.");
        }
    }
}
