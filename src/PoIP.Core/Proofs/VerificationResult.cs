namespace PoIP.Core.Proofs;

/// <summary>The result of verifying one receipt (an expected outcome, not an exception).</summary>
/// <param name="Outcome">Valid, fraud or inconclusive.</param>
/// <param name="Reason">Why, when not valid.</param>
/// <param name="FirstFailingPosition">First failing output position, or -1.</param>
/// <param name="Detail">Human-readable detail.</param>
public sealed record VerificationResult(VerdictOutcome Outcome, FraudReason Reason, int FirstFailingPosition, string Detail)
{
    /// <summary>A valid result.</summary>
    public static VerificationResult Valid(string detail = "") => new(VerdictOutcome.Valid, FraudReason.None, -1, detail);

    /// <summary>A fraud result.</summary>
    public static VerificationResult Fraud(FraudReason reason, int position, string detail) => new(VerdictOutcome.Fraud, reason, position, detail);

    /// <summary>An inconclusive result.</summary>
    public static VerificationResult Inconclusive(FraudReason reason, string detail) => new(VerdictOutcome.Inconclusive, reason, -1, detail);
}
