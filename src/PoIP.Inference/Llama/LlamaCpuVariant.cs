namespace PoIP.Inference.Llama;

/// <summary>Which SIMD build of llama.cpp's CPU backend to load (it changes the numbers, so it is part of the engine identity).</summary>
public enum LlamaCpuVariant
{
    /// <summary>The best variant this CPU supports (LLamaSharp's choice).</summary>
    Auto = 0,

    /// <summary>AVX-512 build.</summary>
    Avx512 = 1,

    /// <summary>AVX2 build.</summary>
    Avx2 = 2,

    /// <summary>AVX build.</summary>
    Avx = 3,

    /// <summary>Build without AVX.</summary>
    NoAvx = 4,
}

/// <summary>Element type of the KV cache (part of the engine identity).</summary>
public enum KvCacheType
{
    /// <summary>16-bit floats (llama.cpp's default).</summary>
    F16 = 0,

    /// <summary>32-bit floats.</summary>
    F32 = 1,

    /// <summary>8-bit blocks (Q8_0); needs flash attention for the V cache in llama.cpp.</summary>
    Q80 = 2,
}
