using System.Text;
using Google.Protobuf;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;
using PoIP.Network.Protocols;

namespace PoIP.Network.InferProtocol;

/// <summary>
/// The client side of <c>/poip/infer/1.0.0</c>: sends the signed request and prompt, streams tokens
/// back, and checks the receipt before trusting it: signature, signer is the node dialed, it
/// answers this request, the input root is the one signed, the output root is the hash of the tokens
/// actually received, the count and price are within the request, and the commitment is present.
/// </summary>
public static class InferenceClient
{
    /// <summary>Largest event frame accepted from a node.</summary>
    public const int MaxEventFrameLength = 300 * 1024;

    /// <summary>Runs one request on an open stream.</summary>
    /// <param name="stream">A stream negotiated for <see cref="InferenceService.ProtocolId"/>.</param>
    /// <param name="request">The signed request.</param>
    /// <param name="prompt">The prompt bytes the request's input root was computed from.</param>
    /// <param name="expectedNode">The node dialed; the receipt must be signed by it.</param>
    /// <param name="onToken">Called for each token as it arrives.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public static async Task<InferenceOutcome> InvokeAsync(
        Stream stream,
        SignedMessage<InferenceRequest> request,
        ReadOnlyMemory<byte> prompt,
        PeerId expectedNode,
        Action<GeneratedToken>? onToken = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(request);
        var open = new InferOpenProto { Version = 1, SignedRequest = ByteString.CopyFrom(request.Envelope.Encoded.Span), Prompt = ByteString.CopyFrom(prompt.Span) };
        var tokens = new List<int>();
        var text = new StringBuilder();
        try
        {
            await LengthPrefixedFrames.WriteAsync(stream, open.ToByteArray(), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                byte[]? frame = await LengthPrefixedFrames.ReadAsync(stream, MaxEventFrameLength, cancellationToken).ConfigureAwait(false);
                if (frame is null)
                {
                    return new InferenceOutcome(InferenceOutcomeStatus.Interrupted, "stream ended before a receipt.", 0, null, tokens, text.ToString());
                }

                var ev = InferEventProto.Parser.ParseFrom(frame);
                switch (ev.EventCase)
                {
                    case InferEventProto.EventOneofCase.Token:
                        if (ev.Token.Index != tokens.Count || tokens.Count >= request.Message.MaxTokens)
                        {
                            return Invalid($"token index {ev.Token.Index} out of order or over the limit.", null, tokens, text);
                        }

                        tokens.Add(ev.Token.TokenId);
                        text.Append(ev.Token.Piece);
                        onToken?.Invoke(new GeneratedToken((int)ev.Token.Index, ev.Token.TokenId, ev.Token.Piece, StopReason.None));
                        break;
                    case InferEventProto.EventOneofCase.Refusal:
                        return new InferenceOutcome(InferenceOutcomeStatus.Refused, ev.Refusal.Detail, ev.Refusal.Status, null, tokens, text.ToString());
                    case InferEventProto.EventOneofCase.ReceiptEnvelope:
                        return CheckReceipt(ev.ReceiptEnvelope.Memory, request, expectedNode, tokens, text);
                    default:
                        return Invalid("unknown event.", null, tokens, text);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or PoIPDecodeException or InvalidProtocolBufferException or ObjectDisposedException)
        {
            return new InferenceOutcome(InferenceOutcomeStatus.Interrupted, ex.Message, 0, null, tokens, text.ToString());
        }
    }

    /// <summary>The client-side receipt checks, usable on their own (e.g. by an auditor).</summary>
    public static string? FindReceiptProblem(SignedMessage<InferenceReceipt> receipt, SignedMessage<InferenceRequest> request, PeerId expectedNode, IReadOnlyList<int> outputTokens)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(outputTokens);
        var r = receipt.Message;
        return receipt.Signer != expectedNode ? $"receipt signed by {receipt.Signer}, not the node dialed."
            : r.NodeId != receipt.Signer ? "receipt's node id is not its signer."
            : r.RequestId.Digest != request.Hash ? "receipt answers another request."
            : r.ModelId != request.Message.ModelId ? "receipt names another model."
            : r.InputRoot != request.Message.InputRoot ? "receipt's input root differs from the signed request's."
            : r.OutputTokenCount != outputTokens.Count ? $"receipt counts {r.OutputTokenCount} tokens, {outputTokens.Count} received."
            : r.OutputRoot != MerkleTree.FromTokens([.. outputTokens]).Root ? "receipt's output root is not the hash of the tokens received."
            : r.Price > request.Message.PriceCap ? $"price {r.Price} exceeds the cap {request.Message.PriceCap}."
            : r.Commitment.IsEmpty ? "receipt carries no activation commitment."
            : null;
    }

    private static InferenceOutcome CheckReceipt(ReadOnlyMemory<byte> envelope, SignedMessage<InferenceRequest> request, PeerId expectedNode, List<int> tokens, StringBuilder text)
    {
        SignedMessage<InferenceReceipt> receipt;
        try
        {
            receipt = SignedMessage.Open<InferenceReceipt>(envelope);
        }
        catch (PoIPException ex) when (ex is PoIPDecodeException or SignatureException)
        {
            return Invalid(ex.Message, null, tokens, text);
        }

        string? problem = FindReceiptProblem(receipt, request, expectedNode, tokens);
        return problem is null
            ? new InferenceOutcome(InferenceOutcomeStatus.Completed, string.Empty, 0, receipt, tokens, text.ToString())
            : Invalid(problem, receipt, tokens, text);
    }

    private static InferenceOutcome Invalid(string detail, SignedMessage<InferenceReceipt>? receipt, List<int> tokens, StringBuilder text) =>
        new(InferenceOutcomeStatus.InvalidReceipt, detail, 0, receipt, tokens, text.ToString());
}
