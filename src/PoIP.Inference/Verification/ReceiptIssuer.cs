using System.Diagnostics;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
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

        long started = Stopwatch.GetTimestamp();
        var promptTokens = engine.Tokenize(prompt, addBeginOfSequence: true);
        var recorder = new ActivationCommitmentScheme().StartRecording(engine.Model, message.MaxTokens);
        var output = new List<int>(Math.Min(message.MaxTokens, 4096));
        var stop = StopReason.None;
        var prefill = TimeSpan.Zero;
        await foreach (var token in engine.GenerateAsync(new GenerationRequest(promptTokens, message.Sampling, message.Seed, message.MaxTokens), recorder, cancellationToken).ConfigureAwait(false))
        {
            if (output.Count == 0)
            {
                prefill = Stopwatch.GetElapsedTime(started);
            }

            output.Add(token.TokenId);
            stop = token.Stop;
            onToken?.Invoke(token);
        }

        var total = Stopwatch.GetElapsedTime(started);
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
            Price = price,
            StopReason = stop,
            IssuedAt = timeProvider.GetUtcNow(),
        };
        return new ReceiptFile(request, prompt, SignedMessage.Create(nodeKey, receipt), tokens);
    }
}
