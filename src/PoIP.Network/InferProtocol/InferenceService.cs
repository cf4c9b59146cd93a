using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;
using PoIP.Network.Protocols;

namespace PoIP.Network.InferProtocol;

/// <summary>
/// The node side of <c>/poip/infer/1.0.0</c>: reads one opening frame (signed request + prompt),
/// admits it (<see cref="RequestAdmission"/>), generates while recording the activation commitment,
/// streams each token, and ends with a signed receipt — or with a refusal, never a crash.
/// </summary>
public sealed class InferenceService
{
    /// <summary>The protocol id.</summary>
    public const string ProtocolId = "/poip/infer/1.0.0";

    private readonly InferenceServiceOptions _options;
    private readonly RequestAdmission _admission;

    /// <summary>Creates the service.</summary>
    public InferenceService(InferenceServiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _admission = new RequestAdmission(options.Policy, options.TimeProvider);
    }

    /// <summary>Largest opening frame accepted.</summary>
    public int MaxOpenFrameLength => _options.Policy.MaxPromptBytes + Core.Signing.EnvelopeType.InferenceRequest.MaxEncodedLength + 64;

    /// <summary>Serves one request on <paramref name="stream"/>; returns what happened.</summary>
    public async Task<ServedRequest> ServeAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        InferOpenProto open;
        try
        {
            byte[]? frame = await LengthPrefixedFrames.ReadAsync(stream, MaxOpenFrameLength, cancellationToken).ConfigureAwait(false);
            if (frame is null)
            {
                return ServedRequest.Refused(InferStatusCodes.BadFrame, "stream closed before a request.");
            }

            open = InferOpenProto.Parser.ParseFrom(frame);
            if (open.Version != 1)
            {
                return await RefuseAsync(stream, InferStatusCodes.BadFrame, $"version {open.Version} not spoken.", cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is PoIPDecodeException or InvalidProtocolBufferException)
        {
            return await RefuseAsync(stream, InferStatusCodes.BadFrame, ex.Message, cancellationToken).ConfigureAwait(false);
        }

        if (_options.ServingCheck is not null)
        {
            string? reason = await _options.ServingCheck(cancellationToken).ConfigureAwait(false);
            if (reason is not null)
            {
                return await RefuseAsync(stream, InferStatusCodes.NotServing, reason, cancellationToken).ConfigureAwait(false);
            }
        }

        var admitted = _admission.Admit(open.SignedRequest.Memory, open.Prompt.Span);
        if (!admitted.IsAccepted)
        {
            return await RefuseAsync(stream, (uint)admitted.Status, admitted.Detail, cancellationToken).ConfigureAwait(false);
        }

        var request = admitted.Request!;
        try
        {
            var served = await GenerateAsync(stream, request, open.Prompt.ToStringUtf8(), cancellationToken).ConfigureAwait(false);
            return served with { Prompt = open.Prompt.Memory };
        }
        catch (EngineException ex) when (!ex.IsFatal)
        {
            return await RefuseAsync(stream, InferStatusCodes.EngineError, ex.Message, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ServedRequest> GenerateAsync(Stream stream, SignedMessage<InferenceRequest> signed, string prompt, CancellationToken cancellationToken)
    {
        var answer = await ReceiptGeneration.GenerateAsync(
            _options.Engine, _options.Commitments, _options.NodeKey, signed, prompt, _options.Policy.PriceFor, _options.TimeProvider,
            async (token, ct) =>
            {
                var frame = new InferEventProto { Version = 1, Token = new InferTokenProto { Index = (uint)token.Index, TokenId = token.TokenId, Piece = token.Piece } };
                await LengthPrefixedFrames.WriteAsync(stream, frame.ToByteArray(), ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        var last = new InferEventProto { Version = 1, ReceiptEnvelope = ByteString.CopyFrom(answer.Receipt.Envelope.Encoded.Span) };
        await LengthPrefixedFrames.WriteAsync(stream, last.ToByteArray(), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new ServedRequest(true, 0, string.Empty, signed, answer.Receipt, answer.OutputTokens);
    }

    private static async Task<ServedRequest> RefuseAsync(Stream stream, uint status, string detail, CancellationToken cancellationToken)
    {
        var frame = new InferEventProto { Version = 1, Refusal = new InferRefusalProto { Status = status, Detail = detail.Length > 512 ? detail[..512] : detail } };
        try
        {
            await LengthPrefixedFrames.WriteAsync(stream, frame.ToByteArray(), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The peer is gone; the refusal is still the outcome.
        }

        return ServedRequest.Refused(status, detail);
    }
}
