namespace PoIP.Core.Proofs;

/// <summary>
/// Judges a receipt. Contract: signatures and bindings (request ↔ receipt, input root, output
/// root) are checked before any expensive work; fraud is a <see cref="VerificationResult"/>, not an
/// exception; a verifier never answers <see cref="VerdictOutcome.Valid"/> for input it could not
/// fully check (it answers <see cref="VerdictOutcome.Inconclusive"/>).
/// </summary>
public interface IProofVerifier
{
    /// <summary>Verifies one case.</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<VerificationResult> VerifyAsync(VerificationCase verificationCase, CancellationToken cancellationToken = default);
}
