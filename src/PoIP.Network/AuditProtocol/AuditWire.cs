using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Core.Protocol.Wire;
using PoIP.Network.Protocols;

namespace PoIP.Network.AuditProtocol;

/// <summary>
/// The wire side of <c>/poip/audit/1.0.0</c>: one length-prefixed submission from the client, one
/// length-prefixed reply from the validator. What a validator does with a submission is the
/// validator's business (PoIP.Hosting's <c>ValidatorService</c>).
/// </summary>
public static class AuditWire
{
    /// <summary>The protocol id.</summary>
    public const string ProtocolId = "/poip/audit/1.0.0";

    /// <summary>The submission and reply version this code speaks.</summary>
    public const uint Version = 1;

    /// <summary>Largest reply frame a client accepts.</summary>
    public const int MaxReplyLength = 64 * 1024;

    /// <summary>Longest reply detail a validator sends (longer details are cut).</summary>
    public const int MaxDetailLength = 512;

    /// <summary>Reads one submission (validator side); null when the client closed the stream first.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="maxLength">Largest submission frame accepted.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="PoIPDecodeException">The frame is oversize, truncated or not a submission.</exception>
    public static async Task<AuditSubmission?> ReadSubmissionAsync(Stream stream, int maxLength, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[]? frame = await LengthPrefixedFrames.ReadAsync(stream, maxLength, cancellationToken).ConfigureAwait(false);
        if (frame is null)
        {
            return null;
        }

        AuditSubmissionProto proto;
        try
        {
            proto = AuditSubmissionProto.Parser.ParseFrom(frame);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new PoIPDecodeException("audit submission", DecodeErrorKind.Malformed, ex.Message, ex);
        }

        return new AuditSubmission(proto.Version, proto.RequestEnvelope.Memory, proto.Prompt.Memory, proto.ReceiptEnvelope.Memory, [.. proto.OutputTokens]);
    }

    /// <summary>Writes one reply (validator side), cutting its detail to <see cref="MaxDetailLength"/>, and flushes.</summary>
    /// <exception cref="IOException">The stream failed.</exception>
    public static async Task WriteReplyAsync(Stream stream, AuditReply reply, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(reply);
        var proto = new AuditReplyProto
        {
            Version = Version,
            Selected = reply.Selected,
            SelectionSignature = ByteString.CopyFrom(reply.SelectionSignature.Span),
            VerdictEnvelope = ByteString.CopyFrom(reply.VerdictEnvelope.Span),
            Detail = reply.Detail.Length > MaxDetailLength ? reply.Detail[..MaxDetailLength] : reply.Detail,
        };
        await LengthPrefixedFrames.WriteAsync(stream, proto.ToByteArray(), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a submission to a validator and reads its reply (client side).</summary>
    /// <param name="stream">A stream opened on <see cref="ProtocolId"/>.</param>
    /// <param name="requestEnvelope">The client's signed request envelope.</param>
    /// <param name="prompt">The prompt bytes.</param>
    /// <param name="receiptEnvelope">The node's signed receipt envelope.</param>
    /// <param name="outputTokens">The output token ids.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <exception cref="PoIPDecodeException">The validator closed the stream without a reply, or the reply is oversize or malformed.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static async Task<AuditReply> SubmitAsync(Stream stream, ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> prompt, ReadOnlyMemory<byte> receiptEnvelope, IReadOnlyList<int> outputTokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(outputTokens);
        var submission = new AuditSubmissionProto
        {
            Version = Version,
            RequestEnvelope = ByteString.CopyFrom(requestEnvelope.Span),
            Prompt = ByteString.CopyFrom(prompt.Span),
            ReceiptEnvelope = ByteString.CopyFrom(receiptEnvelope.Span),
        };
        submission.OutputTokens.AddRange(outputTokens);
        await LengthPrefixedFrames.WriteAsync(stream, submission.ToByteArray(), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        byte[] frame = await LengthPrefixedFrames.ReadAsync(stream, MaxReplyLength, cancellationToken).ConfigureAwait(false)
            ?? throw new PoIPDecodeException("audit reply", DecodeErrorKind.Truncated, "the validator closed the stream without a reply.");
        AuditReplyProto reply;
        try
        {
            reply = AuditReplyProto.Parser.ParseFrom(frame);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new PoIPDecodeException("audit reply", DecodeErrorKind.Malformed, ex.Message, ex);
        }

        return new AuditReply(reply.Selected, reply.SelectionSignature.Memory, reply.VerdictEnvelope.Memory, reply.Detail);
    }
}
