using PoIP.Core.Proofs;
using PoIP.Inference.Commitments;

namespace PoIP.Inference.Verification;

/// <summary>A verification result with the figures behind it (for calibration and diagnostics).</summary>
/// <param name="Result">The result.</param>
/// <param name="Chunks">Every comparison made by the stage that decided: the prompt's first, then the output chunks (empty when re-execution did not run).</param>
/// <param name="SlackUsed">Positions accepted through the sampling slack by the stage that decided (0 after an exact replay).</param>
public sealed record ReexecutionReport(VerificationResult Result, IReadOnlyList<ChunkComparison> Chunks, int SlackUsed)
{
    /// <summary>The teacher-forced check's own report when a decoding replay was asked to settle it; null when it decided alone.</summary>
    public ReexecutionReport? TeacherForced { get; init; }

    /// <summary>Whether the decoding replay reproduced the commitment bit for bit; null when no replay ran.</summary>
    public bool? ReplayExact { get; init; }
}
