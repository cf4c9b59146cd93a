using LLama.Native;
using PoIP.Core.Errors;

namespace PoIP.Inference.Gguf;

/// <summary>Quantisation targets offered by <see cref="GgufQuantizer"/>.</summary>
#pragma warning disable CA1707 // names follow llama.cpp
public enum GgufQuantization
{
    /// <summary>8-bit blocks of 32 (llama.cpp MOSTLY_Q8_0).</summary>
    Q8_0,

    /// <summary>4-bit k-quants, medium mix (llama.cpp MOSTLY_Q4_K_M; rows must be multiples of 256).</summary>
    Q4_K_M,

    /// <summary>16-bit floats (llama.cpp MOSTLY_F16): an F32 model's half-precision copy.</summary>
    F16,
}
#pragma warning restore CA1707

/// <summary>
/// Quantises an F32/F16 GGUF file through llama.cpp's own quantiser (LLamaSharp's native API),
/// so quantised test models are bit-for-bit what llama.cpp would produce.
/// </summary>
public static class GgufQuantizer
{
    /// <summary>Quantises <paramref name="inputPath"/> into <paramref name="outputPath"/>.</summary>
    /// <exception cref="EngineException">llama.cpp failed (code <c>gguf.quantize_failed</c>) or its library did not load.</exception>
    public static void Quantize(string inputPath, string outputPath, GgufQuantization quantization, int threads = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputPath);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        LLamaFtype type = quantization switch
        {
            GgufQuantization.Q8_0 => LLamaFtype.MOSTLY_Q8_0,
            GgufQuantization.Q4_K_M => LLamaFtype.MOSTLY_Q4_K_M,
            GgufQuantization.F16 => LLamaFtype.MOSTLY_F16,
            _ => throw new ArgumentOutOfRangeException(nameof(quantization)),
        };
        uint result;
        try
        {
            NativeApi.llama_empty_call(); // loads llama.cpp through LLamaSharp's library resolver first
            LLamaModelQuantizeParams parameters = LLamaModelQuantizeParams.Default();
            parameters.nthread = threads;
            parameters.ftype = type;
            result = NativeApi.llama_model_quantize(inputPath, outputPath, ref parameters);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or LLama.Exceptions.RuntimeError)
        {
            throw new EngineException("gguf.quantize_failed", "llama.cpp could not be loaded to quantise: " + ex.Message, isFatal: true, ex);
        }

        if (result != 0)
        {
            throw new EngineException("gguf.quantize_failed", $"llama.cpp failed to quantise '{inputPath}' to {quantization} (code {result}).");
        }
    }
}
