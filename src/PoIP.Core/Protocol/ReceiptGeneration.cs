using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Money;
using PoIP.Core.Proofs;

namespace PoIP.Core.Protocol;

/// <summary>An answer generated for a signed request, with the node's signed receipt.</summary>
/// <param name="Receipt">The receipt, signed by the node.</param>
/// <param name="OutputTokens">The generated token ids (the receipt's output root is their Merkle root).</param>
public sealed record GeneratedAnswer(SignedMessage<InferenceReceipt> Receipt, IReadOnlyList<int> OutputTokens);

/// <summary>
/// What a node does for an admitted request, whatever carries it (the <c>/poip/infer/1.0.0</c>
/// service, a local receipt file): tokenize the prompt with BOS, generate under the request's
/// sampling while recording the activation commitment, and sign a receipt bound to the request id,
/// model, engine, input root and output root.
/// </summary>
public static class ReceiptGeneration
{
    /// <summary>Generates the answer to an admitted <paramref name="request"/> and signs its receipt.</summary>
    /// <param name="engine">The engine serving the request's model.</param>
    /// <param name="commitments">The activation commitment scheme.</param>
    /// <param name="nodeKey">The node's key (signs the receipt).</param>
    /// <param name="request">The client's signed request (already admitted: signature, model, input root checked).</param>
    /// <param name="prompt">The prompt the request was signed for.</param>
    /// <param name="priceFor">The price for a given number of output tokens.</param>
    /// <param name="timeProvider">Clock for the receipt's issue time.</param>
    /// <param name="onToken">Awaited with each token as it is generated (e.g. to stream it), or null.</param>
    /// <param name="cancellationToken">Cancels generation.</param>
    /// <exception cref="Errors.EngineException">The engine failed.</exception>
    public static async Task<GeneratedAnswer> GenerateAsync(
        IInferenceEngine engine,
        ICommitmentScheme commitments,
        Ed25519KeyPair nodeKey,
        SignedMessage<InferenceRequest> request,
        string prompt,
        Func<int, TokenAmount> priceFor,
        TimeProvider timeProvider,
        Func<GeneratedToken, CancellationToken, ValueTask>? onToken = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(commitments);
        ArgumentNullException.ThrowIfNull(nodeKey);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(priceFor);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var message = request.Message;
        long started = timeProvider.GetTimestamp();
        var promptTokens = engine.Tokenize(prompt, addBeginOfSequence: true);
        var recorder = commitments.StartRecording(engine.Model, message.MaxTokens);
        var output = new List<int>(Math.Min(message.MaxTokens, 4096));
        var stop = StopReason.None;
        var prefill = TimeSpan.Zero;
        await foreach (var token in engine.GenerateAsync(new GenerationRequest(promptTokens, message.Sampling, message.Seed, message.MaxTokens), recorder, cancellationToken).ConfigureAwait(false))
        {
            if (output.Count == 0)
            {
                prefill = timeProvider.GetElapsedTime(started);
            }

            output.Add(token.TokenId);
            stop = token.Stop;
            if (onToken is not null)
            {
                await onToken(token, cancellationToken).ConfigureAwait(false);
            }
        }

        var total = timeProvider.GetElapsedTime(started);
        var requestId = new RequestId(request.Hash);
        int[] tokens = [.. output];
        var outputRoot = MerkleTree.FromTokens(tokens).Root;
        var receipt = new InferenceReceipt
        {
            RequestId = requestId,
            NodeId = nodeKey.PeerId,
            ModelId = message.ModelId,
            InputRoot = message.InputRoot,
            OutputRoot = outputRoot,
            OutputTokenCount = tokens.Length,
            Commitment = recorder.Complete(new CommitmentContext(requestId, message.ModelId, engine.Identity, message.InputRoot, outputRoot)),
            Engine = engine.Identity,
            Timings = new InferenceTimings(TimeSpan.Zero, prefill, total - prefill, promptTokens.Count, tokens.Length),
            Price = priceFor(tokens.Length),
            StopReason = stop,
            IssuedAt = timeProvider.GetUtcNow(),
        };
        return new GeneratedAnswer(SignedMessage.Create(nodeKey, receipt), tokens);
    }
}
