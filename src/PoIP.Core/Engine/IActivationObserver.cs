namespace PoIP.Core.Engine;

/// <summary>
/// The capture hook of the Inference Engine Standard: an engine calls it with the final-norm
/// hidden state and the logits of every position it computes, during decoding and during
/// teacher-forced re-execution alike. Spans are valid only during the call (engines reuse buffers).
/// </summary>
public interface IActivationObserver
{
    /// <summary>The prompt has been processed; <paramref name="lastHiddenState"/> is the hidden state of its last position.</summary>
    void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState);

    /// <summary>
    /// Output position <paramref name="index"/>: <paramref name="tokenId"/> was chosen (or forced) from
    /// <paramref name="logits"/>, which were computed from <paramref name="hiddenState"/> (the
    /// final-norm hidden state of the position before it).
    /// </summary>
    void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits);
}
