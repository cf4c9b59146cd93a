using System.Runtime.CompilerServices;
using PoIP.Core.Engine;

namespace PoIP.Hosting.LocalNetwork;

/// <summary>
/// A dishonest node's engine for demonstrations: it runs the real engine (and so produces a
/// well-formed commitment) but lies about the output in the configured way.
/// </summary>
internal sealed class CheatingEngine(IInferenceEngine inner, CheatKind kind) : IInferenceEngine
{
    public EngineIdentity Identity => inner.Identity;

    public ModelDescriptor Model => inner.Model;

    public IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence) => inner.Tokenize(text, addBeginOfSequence);

    public string Detokenize(IReadOnlyList<int> tokens) => inner.Detokenize(tokens);

    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var actual = kind == CheatKind.OtherSeed ? request with { Seed = request.Seed ^ 0x5EED } : request;
        int cut = Math.Max(2, request.MaxTokens / 3);
        await foreach (var token in inner.GenerateAsync(actual, observer, cancellationToken).ConfigureAwait(false))
        {
            if (kind == CheatKind.AlterOutput && token.Index % 8 == 3 && token.Stop == StopReason.None)
            {
                int replaced = (token.TokenId + 7) % inner.Model.VocabularySize;
                yield return token with { TokenId = replaced, Piece = inner.Detokenize([replaced]) };
                continue;
            }

            if (kind == CheatKind.Truncate && token.Index == cut && token.Stop == StopReason.None)
            {
                yield return token with { Stop = StopReason.EndOfSequence };
                yield break;
            }

            yield return token;
        }
    }

    public Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, CancellationToken cancellationToken = default) =>
        inner.TeacherForceAsync(promptTokens, outputTokens, observer, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
