using PoIP.Core.Proofs;
using PoIP.Inference.Commitments;

namespace PoIP.Inference.Verification;

/// <summary>A verification result with the figures behind it (for calibration and diagnostics).</summary>
/// <param name="Result">The result.</param>
/// <param name="Chunks">Every comparison made: the prompt's first, then the output chunks (empty when re-execution did not run).</param>
/// <param name="SlackUsed">Positions accepted through the sampling slack.</param>
public sealed record ReexecutionReport(VerificationResult Result, IReadOnlyList<ChunkComparison> Chunks, int SlackUsed);
