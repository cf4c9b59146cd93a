namespace PoIP.Inference.Gguf;

/// <summary>ggml tensor element types that appear in GGUF files (ggml's numbering).</summary>
#pragma warning disable CA1707 // names follow ggml
public enum GgufTensorType : uint
{
    /// <summary>32-bit float.</summary>
    F32 = 0,

    /// <summary>16-bit IEEE half.</summary>
    F16 = 1,

    /// <summary>4-bit blocks of 32 with one f16 scale.</summary>
    Q4_0 = 2,

    /// <summary>4-bit blocks of 32 with f16 scale and minimum.</summary>
    Q4_1 = 3,

    /// <summary>5-bit blocks of 32.</summary>
    Q5_0 = 6,

    /// <summary>5-bit blocks of 32 with minimum.</summary>
    Q5_1 = 7,

    /// <summary>8-bit blocks of 32 with one f16 scale.</summary>
    Q8_0 = 8,

    /// <summary>8-bit blocks of 32 with scale and sum.</summary>
    Q8_1 = 9,

    /// <summary>2-bit k-quant super-blocks of 256.</summary>
    Q2_K = 10,

    /// <summary>3-bit k-quant super-blocks of 256.</summary>
    Q3_K = 11,

    /// <summary>4-bit k-quant super-blocks of 256.</summary>
    Q4_K = 12,

    /// <summary>5-bit k-quant super-blocks of 256.</summary>
    Q5_K = 13,

    /// <summary>6-bit k-quant super-blocks of 256.</summary>
    Q6_K = 14,

    /// <summary>8-bit k-quant super-blocks of 256.</summary>
    Q8_K = 15,

    /// <summary>8-bit integer.</summary>
    I8 = 24,

    /// <summary>16-bit integer.</summary>
    I16 = 25,

    /// <summary>32-bit integer.</summary>
    I32 = 26,

    /// <summary>64-bit integer.</summary>
    I64 = 27,

    /// <summary>64-bit float.</summary>
    F64 = 28,

    /// <summary>bfloat16.</summary>
    BF16 = 30,
}
#pragma warning restore CA1707

/// <summary>Block geometry of the tensor types this SDK knows.</summary>
public static class GgufTensorTypes
{
    /// <summary>Gets elements per block and bytes per block of <paramref name="type"/>; false for a type this SDK does not know.</summary>
    public static bool TryGetBlockLayout(GgufTensorType type, out int elementsPerBlock, out int bytesPerBlock)
    {
        (elementsPerBlock, bytesPerBlock) = type switch
        {
            GgufTensorType.F32 => (1, 4),
            GgufTensorType.F16 => (1, 2),
            GgufTensorType.BF16 => (1, 2),
            GgufTensorType.F64 => (1, 8),
            GgufTensorType.I8 => (1, 1),
            GgufTensorType.I16 => (1, 2),
            GgufTensorType.I32 => (1, 4),
            GgufTensorType.I64 => (1, 8),
            GgufTensorType.Q4_0 => (32, 18),
            GgufTensorType.Q4_1 => (32, 20),
            GgufTensorType.Q5_0 => (32, 22),
            GgufTensorType.Q5_1 => (32, 24),
            GgufTensorType.Q8_0 => (32, 34),
            GgufTensorType.Q8_1 => (32, 36),
            GgufTensorType.Q2_K => (256, 84),
            GgufTensorType.Q3_K => (256, 110),
            GgufTensorType.Q4_K => (256, 144),
            GgufTensorType.Q5_K => (256, 176),
            GgufTensorType.Q6_K => (256, 210),
            GgufTensorType.Q8_K => (256, 292),
            _ => (0, 0),
        };
        return elementsPerBlock > 0;
    }
}
