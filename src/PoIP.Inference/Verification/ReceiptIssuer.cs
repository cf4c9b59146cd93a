using PoIP.Core.Engine;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;

namespace PoIP.Inference.Verification;

/// <summary>
/// Serves one signed request on a local engine the way a node does on <c>/poip/infer/1.0.0</c>
/// (prompt tokenized with BOS, activation commitment recorded while decoding, receipt bound to the
/// request id, input root, output root, model and engine) and returns the transaction as a
/// <see cref="ReceiptFile"/>. For the node console's <c>generate --receipt</c>, tests and benchmarks.
/// </summary>
public static class ReceiptIssuer
{
    /// <summary>Generates the answer to <paramref name="request"/> on <paramref name="engine"/> and signs the receipt with <paramref name="nodeKey"/>.</summary>
    /// <param name="engine">The engine (its model must be the request's).</param>
    /// <param name="nodeKey">The node's key.</param>
    /// <param name="request">The client's signed request.</param>
    /// <param name="prompt">The prompt the request was signed for.</param>
    /// <param name="price">The price charged (at most the request's cap).</param>
    /// <param name="timeProvider">Clock for the receipt's issue time.</param>
    /// <param name="onToken">Called with each token as it is generated (e.g. to stream it), or null.</param>
    /// <param name="cancellationToken">Cancels generation.</param>
    /// <exception cref="ArgumentException">The prompt does not match the request, the request names another model, or the price exceeds the cap.</exception>
    /// <exception cref="Core.Errors.EngineException">The engine failed.</exception>
    public static async Task<ReceiptFile> IssueAsync(IInferenceEngine engine, Ed25519KeyPair nodeKey, SignedMessage<InferenceRequest> request, string prompt, TokenAmount price, TimeProvider timeProvider, Action<GeneratedToken>? onToken = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(nodeKey);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var message = request.Message;
        if (!message.MatchesInput(System.Text.Encoding.UTF8.GetBytes(prompt)))
        {
            throw new ArgumentException("the prompt is not the one the request was signed for.", nameof(prompt));
        }

        if (message.ModelId != engine.Model.Id)
        {
            throw new ArgumentException($"the request asks for model {message.ModelId}; the engine runs {engine.Model.Id}.", nameof(request));
        }

        if (price > message.PriceCap)
        {
            throw new ArgumentException("the price exceeds the request's cap.", nameof(price));
        }

        var answer = await ReceiptGeneration.GenerateAsync(
            engine, new ActivationCommitmentScheme(), nodeKey, request, prompt, _ => price, timeProvider,
            onToken is null ? null : (token, _) => { onToken(token); return ValueTask.CompletedTask; },
            cancellationToken).ConfigureAwait(false);
        return new ReceiptFile(request, prompt, answer.Receipt, [.. answer.OutputTokens]);
    }
}
