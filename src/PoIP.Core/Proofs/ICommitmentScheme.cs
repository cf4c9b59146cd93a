using PoIP.Core.Engine;
using PoIP.Core.Hashing;

namespace PoIP.Core.Proofs;

/// <summary>
/// Records an activation commitment while an engine generates: the node hands the recorder to
/// <see cref="IInferenceEngine.GenerateAsync"/> as its observer and puts <see cref="IActivationRecorder.Complete"/>'s
/// bytes into the receipt.
/// </summary>
public interface ICommitmentScheme
{
    /// <summary>Starts recording one generation of at most <paramref name="maxTokens"/> tokens on <paramref name="model"/>.</summary>
    IActivationRecorder StartRecording(ModelDescriptor model, int maxTokens);
}

/// <summary>An observer that turns the activations it sees into commitment bytes.</summary>
public interface IActivationRecorder : IActivationObserver
{
    /// <summary>Finishes and returns the encoded commitment, bound to what the receipt will say.</summary>
    byte[] Complete(in CommitmentContext context);
}

/// <summary>What a commitment is bound to: the receipt fields it will be signed with.</summary>
/// <param name="RequestId">The request answered.</param>
/// <param name="ModelId">The model run.</param>
/// <param name="Engine">The engine identity.</param>
/// <param name="InputRoot">The input root.</param>
/// <param name="OutputRoot">The output token root.</param>
public readonly record struct CommitmentContext(RequestId RequestId, ModelId ModelId, EngineIdentity Engine, Sha256Digest InputRoot, Sha256Digest OutputRoot);
