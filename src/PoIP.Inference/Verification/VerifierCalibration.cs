using PoIP.Inference.Gguf;

namespace PoIP.Inference.Verification;

/// <summary>
/// Picks the verifier's thresholds for a model file from its weight type (GGUF
/// <c>general.file_type</c>), using the per-type calibration measured by the real-engine matrix
/// (docs/proofs.md §6–7). Unknown types get the default options.
/// </summary>
public static class VerifierCalibration
{
    /// <summary>The weight type a GGUF model declares, or null when it is not one the matrix calibrated.</summary>
    /// <exception cref="Core.Errors.PoIPDecodeException">The file is not a readable GGUF model.</exception>
    public static SynthesisType? WeightTypeOf(string modelPath)
    {
        using var file = GgufFile.Open(modelPath);
        // llama.cpp's llama_ftype: 0 all F32, 1 mostly F16, 7 mostly Q8_0, 15 mostly Q4_K_M.
        return file.Has("general.file_type") ? file.GetInteger("general.file_type") switch
        {
            0 => SynthesisType.F32,
            1 => SynthesisType.F16,
            7 => SynthesisType.Q8_0,
            15 => SynthesisType.Q4_K_M,
            _ => null,
        } : null;
    }

    /// <summary>
    /// Verifier options for <paramref name="modelPath"/>: the calibrated thresholds and sampling slack
    /// of its weight type, with the default engine-compatibility rule; defaults for other types.
    /// </summary>
    public static ReexecutionVerifierOptions ForModel(string modelPath)
    {
        var type = WeightTypeOf(modelPath);
        if (type is null)
        {
            return new ReexecutionVerifierOptions();
        }

        var calibrated = RealProofMatrix.CalibratedOptions(type.Value);
        return new ReexecutionVerifierOptions
        {
            Thresholds = calibrated.Thresholds,
            SamplingSlack = calibrated.SamplingSlack,
            MaxSlackFraction = calibrated.MaxSlackFraction,
        };
    }
}
