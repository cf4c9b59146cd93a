using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Protocol.Wire;
using PoIP.Network.Protocols;

namespace PoIP.Network.AuditProtocol;

/// <summary>
/// The wire side of <c>/poip/transcript/1.0.0</c>: a validator that drew a receipt from the transaction records in the
/// DHT (which carry no prompt or tokens) asks a party of the transaction (the node, else the client) for the
/// transcript: one length-prefixed request naming the receipt id, one length-prefixed reply with the signed request,
/// the prompt, the signed receipt and the output tokens (or "not held"). What is in a transcript is untrusted until
/// checked against the signed request and receipt (PoIP.Hosting's <c>TranscriptCheck</c>).
/// </summary>
public static class TranscriptWire
{
    /// <summary>The protocol id.</summary>
    public const string ProtocolId = "/poip/transcript/1.0.0";

    /// <summary>The request and reply version this code speaks.</summary>
    public const uint Version = 1;

    /// <summary>Largest request frame a server reads (a version and a 32-byte id fit in 40 bytes).</summary>
    public const int MaxRequestLength = 64;

    /// <summary>Reads one request (server side): the receipt id asked for, or null when the peer closed the stream first.</summary>
    /// <exception cref="PoIPDecodeException">The frame is oversize, truncated, malformed, of another version or not a 32-byte id.</exception>
    public static async Task<ReceiptId?> ReadRequestAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[]? frame = await LengthPrefixedFrames.ReadAsync(stream, MaxRequestLength, cancellationToken).ConfigureAwait(false);
        if (frame is null)
        {
            return null;
        }

        TranscriptRequestProto proto;
        try
        {
            proto = TranscriptRequestProto.Parser.ParseFrom(frame);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new PoIPDecodeException("transcript request", DecodeErrorKind.Malformed, ex.Message, ex);
        }

        if (proto.Version != Version || proto.ReceiptId.Length != Sha256Digest.Length)
        {
            throw new PoIPDecodeException("transcript request", DecodeErrorKind.Malformed, "unsupported version or not a 32-byte receipt id.");
        }

        return new ReceiptId(new Sha256Digest(proto.ReceiptId.Span));
    }

    /// <summary>Writes the reply (server side): the transcript, or "not held" when <paramref name="transcript"/> is null; flushes.</summary>
    /// <exception cref="IOException">The stream failed.</exception>
    public static async Task WriteReplyAsync(Stream stream, AuditSubmission? transcript, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var reply = new TranscriptReplyProto { Version = Version, Found = transcript is not null };
        if (transcript is not null)
        {
            reply.Transcript = new AuditSubmissionProto
            {
                Version = AuditWire.Version,
                RequestEnvelope = ByteString.CopyFrom(transcript.RequestEnvelope.Span),
                Prompt = ByteString.CopyFrom(transcript.Prompt.Span),
                ReceiptEnvelope = ByteString.CopyFrom(transcript.ReceiptEnvelope.Span),
            };
            reply.Transcript.OutputTokens.AddRange(transcript.OutputTokens);
        }

        await LengthPrefixedFrames.WriteAsync(stream, reply.ToByteArray(), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks for the transcript of <paramref name="receipt"/> (validator side); null when the peer says it holds none.</summary>
    /// <param name="stream">A stream opened on <see cref="ProtocolId"/>.</param>
    /// <param name="receipt">The receipt id.</param>
    /// <param name="maxLength">Largest reply frame accepted (a prompt, a receipt with its commitment and the tokens).</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <exception cref="PoIPDecodeException">No reply, or the reply is oversize, malformed or of another version.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static async Task<AuditSubmission?> FetchAsync(Stream stream, ReceiptId receipt, int maxLength, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var request = new TranscriptRequestProto { Version = Version, ReceiptId = ByteString.CopyFrom(receipt.Digest.ToArray()) };
        await LengthPrefixedFrames.WriteAsync(stream, request.ToByteArray(), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        byte[] frame = await LengthPrefixedFrames.ReadAsync(stream, maxLength, cancellationToken).ConfigureAwait(false)
            ?? throw new PoIPDecodeException("transcript reply", DecodeErrorKind.Truncated, "the peer closed the stream without a reply.");
        TranscriptReplyProto reply;
        try
        {
            reply = TranscriptReplyProto.Parser.ParseFrom(frame);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new PoIPDecodeException("transcript reply", DecodeErrorKind.Malformed, ex.Message, ex);
        }

        if (reply.Version != Version || (reply.Found && (reply.Transcript is null || reply.Transcript.Version != AuditWire.Version)))
        {
            throw new PoIPDecodeException("transcript reply", DecodeErrorKind.Malformed, "unsupported version or a found reply without a transcript.");
        }

        if (!reply.Found)
        {
            return null;
        }

        var t = reply.Transcript;
        return new AuditSubmission(t.Version, t.RequestEnvelope.Memory, t.Prompt.Memory, t.ReceiptEnvelope.Memory, [.. t.OutputTokens]);
    }
}
