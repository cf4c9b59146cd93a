using Google.Protobuf;
using PoIP.Core.Economics;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;
using PoIP.Inference.Verification;
using PoIP.Network.InferProtocol;
using PoIP.Network.Protocols;

namespace PoIP.Hosting.Validation;

/// <summary>
/// The validator role on <c>/poip/audit/1.0.0</c>: takes finished transactions (signed request,
/// prompt, signed receipt, output tokens), checks both signatures before anything else, draws the
/// verifiable audit lottery over the receipt id, re-executes the selected ones, signs a verdict and,
/// on fraud, submits signed evidence that slashes the node and refunds the client.
/// </summary>
public sealed class ValidatorService
{
    /// <summary>The protocol id.</summary>
    public const string ProtocolId = "/poip/audit/1.0.0";

    private readonly ValidatorServiceOptions _options;

    /// <summary>Creates the service.</summary>
    public ValidatorService(ValidatorServiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Raised after each audit (for dashboards and tests).</summary>
    public event EventHandler<AuditOutcome>? Audited;

    /// <summary>Largest submission frame accepted.</summary>
    public int MaxSubmissionLength => _options.MaxPromptBytes + (300 * 1024) + (InferenceRequest.MaxOutputTokens * 5);

    /// <summary>Audits one transaction.</summary>
    public async Task<AuditOutcome> AuditAsync(ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> prompt, ReadOnlyMemory<byte> receiptEnvelope, IReadOnlyList<int> outputTokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outputTokens);
        SignedMessage<InferenceRequest> request;
        SignedMessage<InferenceReceipt> receipt;
        try
        {
            request = SignedMessage.Open<InferenceRequest>(requestEnvelope);
            receipt = SignedMessage.Open<InferenceReceipt>(receiptEnvelope);
        }
        catch (PoIPException ex) when (ex is PoIPDecodeException or SignatureException)
        {
            return Raise(new AuditOutcome(false, null, null, false, ex.Message));
        }

        if (request.Signer != request.Message.ClientId || receipt.Signer != receipt.Message.NodeId || receipt.Message.RequestId.Digest != request.Hash)
        {
            return Raise(new AuditOutcome(false, null, null, false, "the receipt does not answer this request, or a signer is not the party it names."));
        }

        var receiptId = new ReceiptId(receipt.Hash);
        var ticket = AuditSelection.Draw(_options.Key, receiptId, _options.AuditProbability);
        if (!ticket.Selected)
        {
            return Raise(new AuditOutcome(true, ticket, null, false, "not selected for audit."));
        }

        var result = await _options.Verifier.VerifyAsync(new VerificationCase(request, receipt, prompt, outputTokens), cancellationToken).ConfigureAwait(false);
        var verdict = VerdictSigner.Sign(_options.Key, receipt, result, _options.TimeProvider);
        if (result.Outcome != VerdictOutcome.Fraud)
        {
            return Raise(new AuditOutcome(true, ticket, verdict, false, result.Detail));
        }

        var evidence = SignedMessage.Create(_options.Key, new Evidence
        {
            Kind = EvidenceKind.FraudVerdict,
            AccusedId = receipt.Signer,
            First = verdict.Envelope.Encoded,
            RequestEnvelope = request.Envelope.Encoded,
            ReceiptEnvelope = receipt.Envelope.Encoded,
        });
        var requestId = new RequestId(request.Hash);
        var slash = await _options.Stakes.SlashAsync(OperationId.Derive("slash-fraud", receiptId.Digest.ToArray()), evidence, _options.Key.PeerId, cancellationToken).ConfigureAwait(false);
        await _options.Stakes.RefundEscrowAsync(OperationId.Derive("escrow-refund-fraud", requestId.Digest.ToArray()), requestId, cancellationToken).ConfigureAwait(false);
        return Raise(new AuditOutcome(true, ticket, verdict, slash.IsApplied, $"{result.Reason} at {result.FirstFailingPosition}: {result.Detail}; slash: {slash.Status}"));
    }

    /// <summary>Serves one submission on a stream: reads it, audits it, replies.</summary>
    public async Task HandleAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        AuditReplyProto reply;
        try
        {
            byte[]? frame = await LengthPrefixedFrames.ReadAsync(stream, MaxSubmissionLength, cancellationToken).ConfigureAwait(false);
            if (frame is null)
            {
                return;
            }

            var submission = AuditSubmissionProto.Parser.ParseFrom(frame);
            if (submission.Version != 1 || submission.Prompt.Length > _options.MaxPromptBytes || submission.OutputTokens.Count > InferenceRequest.MaxOutputTokens)
            {
                reply = new AuditReplyProto { Version = 1, Detail = "unsupported or oversize submission." };
            }
            else
            {
                var outcome = await AuditAsync(submission.RequestEnvelope.Memory, submission.Prompt.Memory, submission.ReceiptEnvelope.Memory, [.. submission.OutputTokens], cancellationToken).ConfigureAwait(false);
                reply = new AuditReplyProto
                {
                    Version = 1,
                    Selected = outcome.Ticket?.Selected ?? false,
                    SelectionSignature = outcome.Ticket is null ? ByteString.Empty : ByteString.CopyFrom(outcome.Ticket.Signature.Span),
                    VerdictEnvelope = outcome.Verdict is null ? ByteString.Empty : ByteString.CopyFrom(outcome.Verdict.Envelope.Encoded.Span),
                    Detail = outcome.Detail.Length > 512 ? outcome.Detail[..512] : outcome.Detail,
                };
            }
        }
        catch (Exception ex) when (ex is PoIPDecodeException or InvalidProtocolBufferException)
        {
            reply = new AuditReplyProto { Version = 1, Detail = "malformed submission: " + ex.Message };
        }

        await LengthPrefixedFrames.WriteAsync(stream, reply.ToByteArray(), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a submission to a validator and reads its reply (client side).</summary>
    public static async Task<AuditReplyProto> SubmitAsync(Stream stream, ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> prompt, ReadOnlyMemory<byte> receiptEnvelope, IReadOnlyList<int> outputTokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var submission = new AuditSubmissionProto
        {
            Version = 1,
            RequestEnvelope = ByteString.CopyFrom(requestEnvelope.Span),
            Prompt = ByteString.CopyFrom(prompt.Span),
            ReceiptEnvelope = ByteString.CopyFrom(receiptEnvelope.Span),
        };
        submission.OutputTokens.AddRange(outputTokens);
        await LengthPrefixedFrames.WriteAsync(stream, submission.ToByteArray(), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        byte[] frame = await LengthPrefixedFrames.ReadAsync(stream, 64 * 1024, cancellationToken).ConfigureAwait(false)
            ?? throw new PoIPDecodeException("audit reply", DecodeErrorKind.Truncated, "the validator closed the stream without a reply.");
        return AuditReplyProto.Parser.ParseFrom(frame);
    }

    private AuditOutcome Raise(AuditOutcome outcome)
    {
        Audited?.Invoke(this, outcome);
        return outcome;
    }
}
