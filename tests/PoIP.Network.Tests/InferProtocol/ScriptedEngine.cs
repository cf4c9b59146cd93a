using System.Runtime.CompilerServices;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Proofs;

namespace PoIP.Network.Tests.InferProtocol;

/// <summary>
/// A deterministic stand-in engine for protocol logic tests (the real engines are tested in
/// PoIP.Inference.Tests): one token per byte of the prompt, rotated by the seed.
/// </summary>
internal sealed class ScriptedEngine : IInferenceEngine
{
    public TaskCompletionSource FirstTokenSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource? HoldAfterFirstToken { get; init; }

    public EngineIdentity Identity { get; } = new("scripted", "test", "cpu", "", false, "f32", 1);

    public ModelDescriptor Model { get; } = new(new ModelId(Sha256Digest.Compute("model"u8)), "llama", 256, 4, 1, 128, 1, 2);

    public IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence) =>
        [.. (addBeginOfSequence ? new[] { 1 } : []), .. System.Text.Encoding.UTF8.GetBytes(text).Select(b => (int)b)];

    public string Detokenize(IReadOnlyList<int> tokens) => new(tokens.Select(t => (char)t).ToArray());

    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (request.PromptTokens.Count > 100)
        {
            throw new EngineException("engine.prompt_too_long", "prompt too long");
        }

        observer?.OnPrefill(request.PromptTokens.Count, [0f, 0f, 0f, 0f]);
        for (int i = 0; i < request.MaxTokens; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int token = (int)((request.Seed + (ulong)i) % 200) + 3;
            observer?.OnToken(i, token, [i, 0f, 0f, 0f], new float[256]);
            yield return new GeneratedToken(i, token, ((char)token).ToString(), i == request.MaxTokens - 1 ? StopReason.MaxTokens : StopReason.None);
            if (i == 0)
            {
                FirstTokenSent.TrySetResult();
                if (HoldAfterFirstToken is not null)
                {
                    await HoldAfterFirstToken.Task.WaitAsync(cancellationToken);
                }
            }
        }
    }

    public Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Counts the activations it sees; the commitment is the count (protocol tests only).</summary>
internal sealed class CountingCommitments : ICommitmentScheme
{
    public IActivationRecorder StartRecording(ModelDescriptor model, int maxTokens) => new Recorder();

    private sealed class Recorder : IActivationRecorder
    {
        private int _tokens;

        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
        {
        }

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits) => _tokens++;

        public byte[] Complete(in CommitmentContext context) => BitConverter.GetBytes(_tokens);
    }
}
