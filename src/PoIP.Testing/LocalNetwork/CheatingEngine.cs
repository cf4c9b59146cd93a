using System.Runtime.CompilerServices;
using PoIP.Core.Engine;

namespace PoIP.Testing.LocalNetwork;

/// <summary>
/// A dishonest node's engine for demonstrations: it runs the real engine (and so produces a
/// well-formed commitment) but lies about the output in the configured way.
/// </summary>
internal sealed class CheatingEngine(IInferenceEngine inner, CheatKind kind) : DelegatingInferenceEngine(inner)
{
    public override async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var actual = kind == CheatKind.OtherSeed ? request with { Seed = request.Seed ^ 0x5EED } : request;
        int cut = Math.Max(2, request.MaxTokens / 3);
        await foreach (var token in Inner.GenerateAsync(actual, observer, cancellationToken).ConfigureAwait(false))
        {
            if (kind == CheatKind.AlterOutput && token.Index % 8 == 3 && token.Stop == StopReason.None)
            {
                int replaced = (token.TokenId + 7) % Inner.Model.VocabularySize;
                yield return token with { TokenId = replaced, Piece = Inner.Detokenize([replaced]) };
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
}
