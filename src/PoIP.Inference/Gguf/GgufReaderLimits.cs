namespace PoIP.Inference.Gguf;

/// <summary>Size limits the GGUF reader enforces before it allocates anything a file asks for.</summary>
public sealed record GgufReaderLimits
{
    /// <summary>Defaults that admit every real model (vocabularies of a few hundred thousand tokens).</summary>
    public static GgufReaderLimits Default { get; } = new();

    /// <summary>Most metadata key/value pairs. Default 65,536.</summary>
    public long MaxMetadataCount { get; init; } = 65_536;

    /// <summary>Most tensors. Default 65,536.</summary>
    public long MaxTensorCount { get; init; } = 65_536;

    /// <summary>Longest string (key, value, tensor name) in bytes. Default 1 MiB.</summary>
    public long MaxStringBytes { get; init; } = 1 << 20;

    /// <summary>Most elements in one metadata array. Default 16 Mi.</summary>
    public long MaxArrayLength { get; init; } = 16 << 20;

    /// <summary>Deepest nesting of arrays. Default 4.</summary>
    public int MaxArrayDepth { get; init; } = 4;

    /// <summary>Most dimensions of a tensor. Default 4 (ggml's GGML_MAX_DIMS).</summary>
    public int MaxDimensions { get; init; } = 4;

    /// <summary>Largest header (everything before the tensor data) in bytes. Default 256 MiB.</summary>
    public long MaxHeaderBytes { get; init; } = 256L << 20;
}
