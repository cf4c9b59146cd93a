using System.Runtime.CompilerServices;
using PoIP.Core.Engine;

namespace PoIP.Testing.LocalNetwork;

/// <summary>
/// A node that dies mid-answer, for demonstrations and tests: after the first token of its first
/// request it takes its whole libp2p host down (every connection drops), as a killed process would.
/// </summary>
internal sealed class CrashingEngine(IInferenceEngine inner, Func<ValueTask> crash) : DelegatingInferenceEngine(inner)
{
    private int _crashed;

    public override async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var token in Inner.GenerateAsync(request, observer, cancellationToken).ConfigureAwait(false))
        {
            yield return token;
            if (token.Index == 0 && Interlocked.Exchange(ref _crashed, 1) == 0)
            {
                await crash().ConfigureAwait(false);
                throw new IOException("the node crashed.");
            }
        }
    }
}
