namespace PoIP.Core.Proofs;

/// <summary>What a validator concluded.</summary>
public enum VerdictOutcome
{
    /// <summary>The receipt's work was re-executed and matches.</summary>
    Valid = 1,

    /// <summary>The receipt's work does not match: fraud.</summary>
    Fraud = 2,

    /// <summary>The validator could not decide (missing model, engine mismatch).</summary>
    Inconclusive = 3,
}
