namespace PoIP.Core.Engine;

/// <summary>
/// An inference engine under the Inference Engine Standard. Contract:
/// <list type="bullet">
/// <item>Deterministic: the same model, <see cref="Identity"/>, prompt, sampling and seed give the same tokens, bit for bit.</item>
/// <item>Sampling uses PoIP's managed sampler over the engine's logits, so a validator can recompute every choice.</item>
/// <item>Every computed position is reported to the <see cref="IActivationObserver"/> when one is given.</item>
/// <item>Cancellation reaches the decode loop; a cancelled generation stops within one token.</item>
/// <item>Bad input (oversize prompt, invalid sampling, context overflow) raises <see cref="Errors.EngineException"/> and the engine keeps serving.</item>
/// </list>
/// Adapters prove the contract by passing the conformance suite in <c>PoIP.Testing</c>.
/// </summary>
public interface IInferenceEngine : IAsyncDisposable
{
    /// <summary>What changes the numbers this engine computes.</summary>
    EngineIdentity Identity { get; }

    /// <summary>The model served.</summary>
    ModelDescriptor Model { get; }

    /// <summary>Tokenizes text.</summary>
    /// <exception cref="Errors.EngineException">The text is over the engine's prompt limit.</exception>
    IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence);

    /// <summary>Turns tokens back into text.</summary>
    string Detokenize(IReadOnlyList<int> tokens);

    /// <summary>Generates tokens, streaming each one as soon as it is chosen.</summary>
    /// <exception cref="Errors.EngineException">Invalid request or engine fault.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Teacher-forced re-execution: one prefill of prompt + output that reports, for every output
    /// position, the hidden state and logits the engine computes (what validators compare).
    /// </summary>
    /// <exception cref="Errors.EngineException">Invalid input or engine fault.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, CancellationToken cancellationToken = default);
}
