using PoIP.Core.Engine;

namespace PoIP.Core.Proofs;

/// <summary>
/// Records an activation commitment while an engine generates: the node hands the recorder to
/// <see cref="IInferenceEngine.GenerateAsync"/> as its observer and puts <see cref="IActivationRecorder.Complete"/>'s
/// bytes into the receipt.
/// </summary>
public interface ICommitmentScheme
{
    /// <summary>Starts recording one generation on <paramref name="model"/>.</summary>
    IActivationRecorder StartRecording(ModelDescriptor model);
}

/// <summary>An observer that turns the activations it sees into commitment bytes.</summary>
public interface IActivationRecorder : IActivationObserver
{
    /// <summary>Finishes and returns the encoded commitment.</summary>
    byte[] Complete();
}
