using PoIP.Core.Engine;

namespace PoIP.Testing.LocalNetwork;

/// <summary>An engine that forwards everything to another; derived engines override only what they change.</summary>
internal abstract class DelegatingInferenceEngine(IInferenceEngine inner) : IInferenceEngine
{
    protected IInferenceEngine Inner { get; } = inner;

    public EngineIdentity Identity => Inner.Identity;

    public ModelDescriptor Model => Inner.Model;

    public IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence) => Inner.Tokenize(text, addBeginOfSequence);

    public string Detokenize(IReadOnlyList<int> tokens) => Inner.Detokenize(tokens);

    public abstract IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, CancellationToken cancellationToken = default);

    public Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, CancellationToken cancellationToken = default) =>
        Inner.TeacherForceAsync(promptTokens, outputTokens, observer, cancellationToken);

    public ValueTask DisposeAsync() => Inner.DisposeAsync();
}
