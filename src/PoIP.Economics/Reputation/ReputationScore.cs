namespace PoIP.Economics.Reputation;

/// <summary>A node's decayed evidence and its score.</summary>
/// <param name="Successes">Decayed weighted successes (prior excluded).</param>
/// <param name="Failures">Decayed weighted failures (prior excluded).</param>
/// <param name="Score">Posterior mean of Beta(prior + successes, prior + failures), in (0, 1).</param>
public readonly record struct ReputationScore(double Successes, double Failures, double Score)
{
    /// <summary>
    /// Proven frauds and failed known-answer challenges on record (not decayed): the competition routes around a node
    /// with any while an eligible node without one exists (<see cref="Selection.NodeCandidate.Offences"/>).
    /// </summary>
    public int Offences { get; init; }
}
