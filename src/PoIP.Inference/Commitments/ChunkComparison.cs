namespace PoIP.Inference.Commitments;

/// <summary>How one chunk of the verifier's activations compared with the commitment.</summary>
/// <param name="Chunk">Output chunk number, or −1 for the prompt.</param>
/// <param name="FirstPosition">First output position of the chunk (0 for the prompt).</param>
/// <param name="TopK">Indices compared.</param>
/// <param name="Mismatches">Indices whose committed value is absent or grossly different.</param>
/// <param name="MedianRelativeError">Median relative error (+∞ when more than half mismatch).</param>
/// <param name="TrimmedMeanRelativeError">Mean of the smallest relative errors after trimming (+∞ when too many mismatch).</param>
/// <param name="Passed">Whether the chunk passed the thresholds.</param>
/// <param name="ExactMatches">
/// Indices whose committed half-precision value is bit for bit the verifier's own value rounded to
/// half: all <paramref name="TopK"/> when the verifier reproduced the node's computation exactly
/// (a step-by-step decoding replay on the same engine identity), rarely all otherwise.
/// </param>
public readonly record struct ChunkComparison(int Chunk, int FirstPosition, int TopK, int Mismatches, double MedianRelativeError, double TrimmedMeanRelativeError, bool Passed, int ExactMatches)
{
    /// <summary>Whether every compared index matched bit for bit.</summary>
    public bool IsExact => ExactMatches == TopK;
}
