namespace PoIP.Inference.Commitments;

/// <summary>Which vector of a chunk of output positions the commitment takes its top-k from.</summary>
public enum CommitmentAggregation
{
    /// <summary>The final-norm hidden state of the chunk's last position (TOPLOC's choice).</summary>
    LastPosition = 0,

    /// <summary>
    /// The mean of the final-norm hidden states of every position in the chunk (PoIP's default): every
    /// position contributes, so no position can be substituted unseen, and independent rounding noise
    /// averages out, which narrows the honest error distribution.
    /// </summary>
    Mean = 1,
}
