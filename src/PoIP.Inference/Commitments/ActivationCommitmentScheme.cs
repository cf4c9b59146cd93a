using PoIP.Core.Engine;
using PoIP.Core.Proofs;

namespace PoIP.Inference.Commitments;

/// <summary>
/// PoIP's activation commitment (<see cref="ActivationCommitment"/>) as an <see cref="ICommitmentScheme"/>
/// that a node plugs into its inference service: top-k of the final-norm hidden states per chunk,
/// with the standard parameters for the model's width.
/// </summary>
public sealed class ActivationCommitmentScheme : ICommitmentScheme
{
    /// <inheritdoc />
    public IActivationRecorder StartRecording(ModelDescriptor model, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Recorder(CommitmentBuilder.ForModel(model, maxTokens));
    }

    private sealed class Recorder(CommitmentBuilder builder) : IActivationRecorder
    {
        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState) => builder.OnPrefill(promptTokenCount, lastHiddenState);

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits) => builder.OnToken(index, tokenId, hiddenState, logits);

        public byte[] Complete(in CommitmentContext context) =>
            builder.Build(new CommitmentBinding(context.RequestId, context.ModelId, context.Engine, context.InputRoot, context.OutputRoot)).Encode();
    }
}
