using PoIP.Inference.Commitments;
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

        return CalibratedOptions(type.Value);
    }

    /// <summary>
    /// Activation thresholds for a claimed model's weight type, chosen from the calibration in
    /// docs/proofs.md (honest maximum vs attack minimum of the worst chunk per receipt). F32 and F16
    /// claims use 1e-3 (trimmed mean) and 1.5e-3 (median), so that their weights served as Q8_0 (the
    /// adjacent cheaper encoding: F16 as Q8_0 measured ≥ 2.7e-3, F32 as Q8_0 ≥ 2.15e-3) are caught;
    /// Q8_0 and Q4_K_M claims keep the defaults (5e-3), between the honest maximum (3.6e-3 median,
    /// flat Q4_K_M) and the smallest Q4_K_M substitution (1.7e-2).
    /// </summary>
    public static CommitmentThresholds CalibratedThresholds(SynthesisType weightType) => weightType switch
    {
        SynthesisType.F32 or SynthesisType.F16 => CommitmentThresholds.Default with { MaxMedianRelativeError = 1.5e-3, MaxTrimmedMeanRelativeError = 1e-3 },
        _ => CommitmentThresholds.Default,
    };

    /// <summary>
    /// The teacher-forced activation error (worst chunk's trimmed mean) above which a receipt judged valid is
    /// still replayed (<see cref="ReexecutionVerifierOptions.ReplayAboveTrimmedMeanError"/>): between the honest
    /// maximum and the smallest error of a Q8_0 KV cache claimed as F16 (docs/proofs.md §6, §7c): F32/F16 3e-4
    /// (honest ≤ 2.6e-4, KV cache ≥ 4.9e-4), Q8_0 8.5e-4 (honest ≤ 8.2e-4, KV ≥ 1.04e-3), Q4_K_M 1.2e-3 (honest
    /// small model ≤ 1.36e-3, KV ≥ 1.41e-3; the flat model's honest receipts sit above it and are replayed).
    /// </summary>
    public static double ReplayTrigger(SynthesisType weightType) => weightType switch
    {
        SynthesisType.F32 or SynthesisType.F16 => 3e-4,
        SynthesisType.Q8_0 => 8.5e-4,
        _ => 1.2e-3,
    };

    /// <summary>
    /// The verifier options for a claimed model's weight type: <see cref="CalibratedThresholds"/>, the
    /// default engine-compatibility rule, and the sampling slack: ε = 0.05 on up to 2 % of the positions
    /// (at least <see cref="ReexecutionVerifierOptions.MinSlackPositions"/> = 2) for F32, F16 and Q8_0;
    /// Q4_K_M, whose single-token decode and batched prefill disagree more (honest greedy gaps up to
    /// 0.094 logits and two near-ties in one 32-token receipt were measured), gets ε = 0.1 on up to 8 %
    /// of the positions.
    /// </summary>
    public static ReexecutionVerifierOptions CalibratedOptions(SynthesisType weightType) => new()
    {
        Thresholds = CalibratedThresholds(weightType),
        ReplayAboveTrimmedMeanError = ReplayTrigger(weightType),
        SamplingSlack = weightType == SynthesisType.Q4_K_M ? 0.1f : 0.05f,
        MaxSlackFraction = weightType == SynthesisType.Q4_K_M ? 0.08 : 0.02,
    };
}
