using PoIP.Core.Economics;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Verification;
using PoIP.Network.AuditProtocol;

namespace PoIP.Hosting.Validation;

/// <summary>
/// The validator role on <c>/poip/audit/1.0.0</c>: takes finished transactions (signed request,
/// prompt, signed receipt, output tokens), checks both signatures before anything else, draws the
/// verifiable audit lottery over the receipt id, re-executes the selected ones, signs a verdict and,
/// on fraud, submits signed evidence that slashes the node and refunds the client.
/// </summary>
public sealed class ValidatorService
{
    /// <summary>The protocol id (<see cref="AuditWire.ProtocolId"/>).</summary>
    public const string ProtocolId = AuditWire.ProtocolId;

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

        return await JudgeAsync(request, receipt, prompt, outputTokens, ticket, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Judges the answer to a known-answer challenge this validator sent itself (<see cref="ValidatorChallenger"/>):
    /// re-executed always, never left to the lottery; a fraud verdict slashes the node as any audit does.
    /// </summary>
    /// <param name="request">The validator's own signed request.</param>
    /// <param name="receipt">The node's signed receipt.</param>
    /// <param name="prompt">The prompt bytes.</param>
    /// <param name="outputTokens">The tokens the node answered.</param>
    /// <param name="cancellationToken">Cancels the re-execution.</param>
    /// <exception cref="ArgumentException">The receipt does not answer the request.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public Task<AuditOutcome> AuditChallengeAsync(SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, ReadOnlyMemory<byte> prompt, IReadOnlyList<int> outputTokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(outputTokens);
        if (receipt.Signer != receipt.Message.NodeId || receipt.Message.RequestId.Digest != request.Hash)
        {
            throw new ArgumentException("The receipt does not answer this request, or its signer is not the node it names.", nameof(receipt));
        }

        return JudgeAsync(request, receipt, prompt, outputTokens, ticket: null, cancellationToken);
    }

    private async Task<AuditOutcome> JudgeAsync(SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, ReadOnlyMemory<byte> prompt, IReadOnlyList<int> outputTokens, AuditSelectionTicket? ticket, CancellationToken cancellationToken)
    {
        var receiptId = new ReceiptId(receipt.Hash);
        var result = await _options.Verifier.VerifyAsync(new VerificationCase(request, receipt, prompt, outputTokens), cancellationToken).ConfigureAwait(false);
        var verdict = VerdictSigner.Sign(_options.Key, receipt, result, _options.TimeProvider);
        if (result.Outcome != VerdictOutcome.Fraud)
        {
            string counted = await CountValidVerdictAsync(verdict, request, receipt, cancellationToken).ConfigureAwait(false);
            return Raise(new AuditOutcome(true, ticket, verdict, false, result.Detail + counted));
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
        // One operation per (receipt, validator): under a quorum every validator's verdict is its own vote.
        var slash = await _options.Stakes.SlashAsync(OperationId.Derive("slash-fraud", [.. receiptId.Digest.ToArray(), .. _options.Key.PeerId.Bytes]), evidence, _options.Key.PeerId, cancellationToken).ConfigureAwait(false);
        await _options.Stakes.RefundEscrowAsync(OperationId.Derive("escrow-refund-fraud", requestId.Digest.ToArray()), requestId, cancellationToken).ConfigureAwait(false);
        bool slashed = slash.IsApplied && (_options.Stakes is not IValidatorAccountability court
            || (await court.GetCaseAsync(receiptId, cancellationToken).ConfigureAwait(false))?.State is null or DisputeState.Executed);
        return Raise(new AuditOutcome(true, ticket, verdict, slashed, $"{result.Reason} at {result.FirstFailingPosition}: {result.Detail}; slash: {slash.Status}"));
    }

    /// <summary>
    /// Validator accountability: where the ledger keeps fraud cases and one is pending on this
    /// receipt (undecided, convicted or under appeal), a valid verdict counts in it too, so a wrong
    /// accusation is overturned (docs/proofs.md, "Validator accountability").
    /// </summary>
    private async Task<string> CountValidVerdictAsync(SignedMessage<Verdict> verdict, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, CancellationToken cancellationToken)
    {
        if (verdict.Message.Outcome != VerdictOutcome.Valid || _options.Stakes is not IValidatorAccountability court)
        {
            return string.Empty;
        }

        var pending = await court.GetCaseAsync(verdict.Message.ReceiptId, cancellationToken).ConfigureAwait(false);
        if (pending is not { State: DisputeState.Open or DisputeState.Convicted or DisputeState.Appealed })
        {
            return string.Empty;
        }

        var counted = await court.SubmitVerdictAsync(OperationId.Derive("verdict-valid", verdict.Hash.ToArray()), verdict, request, receipt, cancellationToken).ConfigureAwait(false);
        return $"; counted in the pending case: {counted.Status}";
    }

    /// <summary>Serves one submission on a stream: reads it, audits it, replies.</summary>
    public async Task HandleAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        AuditReply reply;
        try
        {
            var submission = await AuditWire.ReadSubmissionAsync(stream, MaxSubmissionLength, cancellationToken).ConfigureAwait(false);
            if (submission is null)
            {
                return;
            }

            if (submission.Version != AuditWire.Version || submission.Prompt.Length > _options.MaxPromptBytes || submission.OutputTokens.Count > InferenceRequest.MaxOutputTokens)
            {
                reply = new AuditReply(false, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, "unsupported or oversize submission.");
            }
            else
            {
                var outcome = await AuditAsync(submission.RequestEnvelope, submission.Prompt, submission.ReceiptEnvelope, submission.OutputTokens, cancellationToken).ConfigureAwait(false);
                reply = new AuditReply(
                    outcome.Ticket?.Selected ?? false,
                    outcome.Ticket is null ? ReadOnlyMemory<byte>.Empty : outcome.Ticket.Signature,
                    outcome.Verdict is null ? ReadOnlyMemory<byte>.Empty : outcome.Verdict.Envelope.Encoded,
                    outcome.Detail);
            }
        }
        catch (PoIPDecodeException ex)
        {
            reply = new AuditReply(false, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, "malformed submission: " + ex.Message);
        }

        await AuditWire.WriteReplyAsync(stream, reply, cancellationToken).ConfigureAwait(false);
    }

    private AuditOutcome Raise(AuditOutcome outcome)
    {
        Audited?.Invoke(this, outcome);
        return outcome;
    }
}
