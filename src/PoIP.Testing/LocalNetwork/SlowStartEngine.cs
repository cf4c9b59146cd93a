using System.Runtime.CompilerServices;
using PoIP.Core.Engine;

namespace PoIP.Testing.LocalNetwork;

/// <summary>
/// A slow node: the real engine, but before its first token it runs <paramref name="beforeFirstToken"/>
/// (a benchmark waits a real delay there; a test advances a fake clock, so the client measures the node
/// as slow without anyone waiting).
/// </summary>
public sealed class SlowStartEngine(IInferenceEngine inner, Func<CancellationToken, Task> beforeFirstToken) : IInferenceEngine
{
    /// <inheritdoc />
    public EngineIdentity Identity => inner.Identity;

    /// <inheritdoc />
    public ModelDescriptor Model => inner.Model;

    /// <inheritdoc />
    public IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence) => inner.Tokenize(text, addBeginOfSequence);

    /// <inheritdoc />
    public string Detokenize(IReadOnlyList<int> tokens) => inner.Detokenize(tokens);

    /// <inheritdoc />
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        bool first = true;
        await foreach (var token in inner.GenerateAsync(request, observer, cancellationToken).ConfigureAwait(false))
        {
            if (first)
            {
                first = false;
                await beforeFirstToken(cancellationToken).ConfigureAwait(false);
            }

            yield return token;
        }
    }

    /// <inheritdoc />
    public Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, CancellationToken cancellationToken = default) =>
        inner.TeacherForceAsync(promptTokens, outputTokens, observer, cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
