namespace PoIP.Core.Engine;

/// <summary>
/// An engine that can re-execute a generation the way its decoding computed it: the prompt in
/// micro-batches of the node's prefill size, then one decode step per claimed output token, exactly
/// the work <see cref="IInferenceEngine.GenerateAsync"/> does, minus the sampling. On an engine of
/// the same <see cref="EngineIdentity"/> it reports the node's hidden states and logits bit for bit,
/// which a one-prefill <see cref="IInferenceEngine.TeacherForceAsync"/> does not (other kernels, other
/// rounding). Validators use it to confirm, at decode cost, a sampling disagreement that the cheap
/// teacher-forced check could not tell apart from rounding noise (docs/proofs.md §2).
/// </summary>
public interface IDecodingReplay
{
    /// <summary>The largest prompt micro-batch this engine can reproduce.</summary>
    int MaxReplayMicroBatch { get; }

    /// <summary>
    /// Replays a generation: reports the prompt's last hidden state, then, for every output position,
    /// the hidden state and logits decoding computed before <paramref name="outputTokens"/>[i] was chosen.
    /// </summary>
    /// <param name="promptTokens">The prompt, tokenized as the node tokenized it.</param>
    /// <param name="outputTokens">The claimed output tokens (at least one).</param>
    /// <param name="promptMicroBatch">The node's prefill micro-batch (its <see cref="EngineIdentity.Ubatch"/>), in [1, <see cref="MaxReplayMicroBatch"/>].</param>
    /// <param name="observer">Receives every position.</param>
    /// <param name="cancellationToken">Cancels between decode steps.</param>
    /// <exception cref="Errors.EngineException">Invalid input, a micro-batch this engine cannot reproduce, or an engine fault.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task ReplayDecodingAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, int promptMicroBatch, IActivationObserver observer, CancellationToken cancellationToken = default);
}
