using System.Text;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Merkle;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;

namespace PoIP.Inference.Verification;

/// <summary>
/// Judges a receipt by teacher-forced re-execution on any <see cref="IInferenceEngine"/> (docs/proofs.md):
/// <list type="number">
/// <item>bindings, before any expensive work: signatures and signers, receipt ↔ request id, input root
/// (recomputed from the prompt bytes) in request and receipt, output root of the claimed tokens,
/// model id, engine compatibility, a well-formed commitment with the standard parameters covering the
/// output, and the termination rules that need no logits;</item>
/// <item>one teacher-forced prefill of prompt + claimed output, the prompt tokenized as
/// <c>engine.Tokenize(prompt, addBeginOfSequence: true)</c> (part of the standard);</item>
/// <item>per chunk, the activation comparison (<see cref="CommitmentComparer"/>);</item>
/// <item>per position, the sampling check: each claimed token is what the seeded sampler picks from
/// the verifier's logits (with the slack rule of <see cref="ReexecutionVerifierOptions.SamplingSlack"/>);</item>
/// <item>when that check is disputed (a mismatch, or a position accepted only through the slack) and the
/// engine implements <see cref="IDecodingReplay"/>: the node's decoding replayed step by step, which on
/// the same engine identity reproduces its logits bit for bit and judges every token exactly
/// (<see cref="ReexecutionVerifierOptions.DecodingReplay"/>).</item>
/// </list>
/// Fraud found in the node's signed claims is <see cref="VerdictOutcome.Fraud"/>; what cannot be
/// attributed to the node (bad client signature, prompt bytes that do not match the request, tokens
/// that do not match the signed root, a model or engine this verifier does not run, an engine fault)
/// is <see cref="VerdictOutcome.Inconclusive"/>.
/// </summary>
public sealed class ReexecutionVerifier : IProofVerifier
{
    private readonly IInferenceEngine _engine;
    private readonly ReexecutionVerifierOptions _options;

    /// <summary>Creates a verifier running <paramref name="engine"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public ReexecutionVerifier(IInferenceEngine engine, ReexecutionVerifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        options.EnsureValid();
        _engine = engine;
        _options = options;
    }

    /// <inheritdoc />
    public async Task<VerificationResult> VerifyAsync(VerificationCase verificationCase, CancellationToken cancellationToken = default) =>
        (await VerifyWithDetailsAsync(verificationCase, cancellationToken).ConfigureAwait(false)).Result;

    /// <summary>
    /// Verifies like <see cref="VerifyAsync"/> and also returns every chunk comparison and the slack
    /// used: the raw figures for calibrating <see cref="CommitmentThresholds"/> and the slack.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task<ReexecutionReport> VerifyWithDetailsAsync(VerificationCase verificationCase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verificationCase);
        var prepared = Prepare(verificationCase, out var early);
        if (prepared is null)
        {
            return new ReexecutionReport(early!, [], 0);
        }

        var (request, receipt, commitment, binding, promptTokens, output) = prepared.Value;

        // A prefill that computes the node's decoding bit for bit settles everything an exact replay would.
        bool exactPrefill = _options.DecodingReplay != DecodingReplayPolicy.Always
            && _engine is Llama.LlamaInferenceEngine { PrefillMatchesDecoding: true }
            && _options.BitExactPrefill(receipt.Engine, _engine.Identity);
        if (!exactPrefill && _options.DecodingReplay == DecodingReplayPolicy.ReplayOnly
            && await ReplayAsync(null, request, receipt, commitment, binding, promptTokens, output, cancellationToken).ConfigureAwait(false) is { } direct)
        {
            return direct;
        }

        var comparer = new CommitmentComparer(commitment, binding, _options.Thresholds);
        var observer = NewObserver(comparer, request, promptTokens, output);
        try
        {
            await _engine.TeacherForceAsync(promptTokens, output, observer, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException e)
        {
            return new ReexecutionReport(VerificationResult.Inconclusive(FraudReason.None, Truncate("re-execution failed: " + e.Message)), [], 0);
        }

        if (exactPrefill)
        {
            return JudgeExactPrefill(comparer, observer, output);
        }

        var forced = new ReexecutionReport(Judge(comparer, observer, output), comparer.Results.ToArray(), observer.SlackUsed);
        return NeedsReplay(forced)
            ? await ReplayAsync(forced, request, receipt, commitment, binding, promptTokens, output, cancellationToken).ConfigureAwait(false) ?? forced
            : forced;
    }

    private bool NeedsReplay(ReexecutionReport forced) => _options.DecodingReplay switch
    {
        DecodingReplayPolicy.Always => forced.Result.Outcome == VerdictOutcome.Valid || IsNumericFraud(forced.Result),
        DecodingReplayPolicy.WhenDisputed or DecodingReplayPolicy.ReplayOnly => IsNumericFraud(forced.Result)
            || (forced.Result.Outcome == VerdictOutcome.Valid && (forced.SlackUsed > 0 || forced.Chunks.Any(c => c.TrimmedMeanRelativeError > _options.ReplayAboveTrimmedMeanError))),
        _ => false,
    };

    private static bool IsSamplingFraud(VerificationResult result) => result.Outcome == VerdictOutcome.Fraud && result.Reason == FraudReason.SamplingMismatch;

    /// <summary>Fraud judged on numbers the prefill computes differently from decoding (activations, sampling): worth a replay before it is signed.</summary>
    private static bool IsNumericFraud(VerificationResult result) =>
        result.Outcome == VerdictOutcome.Fraud && result.Reason is FraudReason.SamplingMismatch or FraudReason.ActivationMismatch;

    /// <summary>
    /// The second stage: the node's decoding replayed step by step. When the replay reproduces the node's
    /// numbers (<see cref="ReexecutionVerifierOptions.BitExactReplay"/> holds for the two identities) every
    /// claimed token must be exactly the sampler's pick (no slack); otherwise the slack rule applies to the
    /// replay's logits.
    /// </summary>
    /// <remarks><paramref name="forced"/> null (<see cref="DecodingReplayPolicy.ReplayOnly"/>): no first stage ran; null is returned when the replay is impossible or fails.</remarks>
    private async Task<ReexecutionReport?> ReplayAsync(ReexecutionReport? forced, InferenceRequest request, InferenceReceipt receipt, ActivationCommitment commitment, CommitmentBinding binding, IReadOnlyList<int> promptTokens, IReadOnlyList<int> output, CancellationToken cancellationToken)
    {
        // A prompt no longer than the node's micro-batch was prefilled in one batch, whatever its size.
        int microBatch = Math.Min(receipt.Engine.Ubatch, promptTokens.Count);
        if (_engine is not IDecodingReplay replay || microBatch < 1 || microBatch > replay.MaxReplayMicroBatch)
        {
            string why = _engine is IDecodingReplay r
                ? $"the node's prompt prefill micro-batch {microBatch} is outside what this engine reproduces (1 to {r.MaxReplayMicroBatch})"
                : "this verifier's engine cannot replay decoding";
            return forced is null ? null : Unconfirmed(forced, why);
        }

        var comparer = new CommitmentComparer(commitment, binding, _options.Thresholds);
        var observer = NewObserver(comparer, request, promptTokens, output);
        try
        {
            await replay.ReplayDecodingAsync(promptTokens, output, microBatch, observer, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException e)
        {
            return forced is null ? null : Unconfirmed(forced, "the decoding replay failed: " + e.Message);
        }

        if (observer.FirstEngineFault >= 0 || observer.Positions != output.Count || !comparer.IsComplete)
        {
            return forced is null ? null : Unconfirmed(forced, $"the decoding replay reported {observer.Positions} of {output.Count} positions consistently");
        }

        // Strict (no slack) only when the identities guarantee a bit-exact replay. A commitment that matches
        // bit for bit is not enough: its values are half-precision rounded, so another engine's replay
        // (the managed engine's receipts on llama.cpp) can match all of them and still move a near-tie in
        // the logits (found by the false-positive campaign, docs/proofs.md §7b).
        bool exact = comparer.IsExact;
        bool strict = _options.BitExactReplay(receipt.Engine, _engine.Identity);
        VerificationResult result;
        if (comparer.FirstFailure is not null || !strict)
        {
            result = Judge(comparer, observer, output);
            if (IsSamplingFraud(result) && !strict)
            {
                result = JudgeInexactSampling(observer, output, receipt.Engine);
            }
            else if (result.Outcome == VerdictOutcome.Fraud)
            {
                result = result with { Detail = Truncate(result.Detail + " (decoding replay)") };
            }
        }
        else if (observer.FirstStrictFailure >= 0)
        {
            result = VerificationResult.Fraud(FraudReason.SamplingMismatch, observer.FirstStrictFailure, Truncate(
                $"position {observer.FirstStrictFailure}: claimed token {output[observer.FirstStrictFailure]}, the sampler picks {observer.SampledAtStrictFailure} from the logits of an exact replay of the node's decoding (commitment {(exact ? "reproduced bit for bit" : "not reproduced bit for bit")})."));
        }
        else
        {
            result = VerificationResult.Valid($"{output.Count} tokens: every claimed token is the sampler's pick on an exact replay of the node's decoding ({(forced is null ? "no teacher-forced check" : $"the teacher-forced check: {forced.Result.Outcome}, slack at {forced.SlackUsed} positions")}).");
        }

        return new ReexecutionReport(result, comparer.Results.ToArray(), strict ? 0 : observer.SlackUsed) { TeacherForced = forced, ReplayExact = exact };
    }

    /// <summary>
    /// The teacher-forced check on a prefill that equals the node's decoding bit for bit
    /// (<see cref="ReexecutionVerifierOptions.BitExactPrefill"/>): judged as an exact replay is, i.e. the
    /// activations by the calibrated comparison and every claimed token exactly (no slack, no replay).
    /// </summary>
    private static ReexecutionReport JudgeExactPrefill(CommitmentComparer comparer, ReexecutionObserver observer, IReadOnlyList<int> output)
    {
        VerificationResult result = Judge(comparer, observer, output);
        if (result.Outcome != VerdictOutcome.Inconclusive && result.Reason != FraudReason.ActivationMismatch)
        {
            result = observer.FirstStrictFailure >= 0
                ? VerificationResult.Fraud(FraudReason.SamplingMismatch, observer.FirstStrictFailure, Truncate(
                    $"position {observer.FirstStrictFailure}: claimed token {output[observer.FirstStrictFailure]}, the sampler picks {observer.SampledAtStrictFailure} from the logits of a teacher-forced prefill that computes the node's decoding bit for bit (commitment {(comparer.IsExact ? "reproduced bit for bit" : "not reproduced bit for bit")})."))
                : VerificationResult.Valid($"{output.Count} tokens: every claimed token is the sampler's pick on a teacher-forced prefill that computes the node's decoding bit for bit.");
        }

        return new ReexecutionReport(result, comparer.Results.ToArray(), 0);
    }

    /// <summary>
    /// A sampling dispute on a replay that cannot be exact (another engine, a GPU backend): fraud only at a
    /// position the slack rule cannot explain at all. When every disagreement lies within the slack and only
    /// its budget was spent, the replay cannot tell rounding noise from a choice among near-tied tokens:
    /// inconclusive, never a slash. (A draw over every candidate of a flat distribution has hundreds of
    /// interval boundaries, so an honest engine's rounding noise moves it at several percent of positions:
    /// the campaign's finding 3, docs/proofs.md §7b.)
    /// </summary>
    private static VerificationResult JudgeInexactSampling(ReexecutionObserver observer, IReadOnlyList<int> output, EngineIdentity node)
    {
        if (observer.FirstUnexplained >= 0)
        {
            int at = observer.FirstUnexplained;
            return VerificationResult.Fraud(FraudReason.SamplingMismatch, at, Truncate(
                $"position {at}: claimed token {output[at]} is outside the slack of the decoding replay (not exact for {node}); disagreements within the slack: {observer.SlackUsed + observer.OverBudget}. (decoding replay)"));
        }

        return VerificationResult.Inconclusive(FraudReason.SamplingMismatch, Truncate(
            $"Not confirmed: the decoding replay is not exact for {node}, and its {observer.SlackUsed + observer.OverBudget} disagreements with the claim all lie within the slack (budget {observer.SlackUsed}; first beyond it at {observer.FirstSamplingFailure})."));
    }

    /// <summary>
    /// A dispute the replay could not settle: a sampling mismatch becomes inconclusive; an activation
    /// mismatch stands (its thresholds are calibrated with a measured margin, docs/proofs.md §6); a
    /// slack-accepted receipt stays valid.
    /// </summary>
    private static ReexecutionReport Unconfirmed(ReexecutionReport forced, string why)
    {
        if (!IsSamplingFraud(forced.Result))
        {
            return forced;
        }

        var result = VerificationResult.Inconclusive(FraudReason.SamplingMismatch, Truncate($"Not confirmed by a decoding replay ({why}): {forced.Result.Detail}"));
        return forced with { Result = result, TeacherForced = forced };
    }

    private ReexecutionObserver NewObserver(CommitmentComparer comparer, InferenceRequest request, IReadOnlyList<int> promptTokens, IReadOnlyList<int> output) =>
        new(comparer, _options.SamplerFactory(_engine.Model.VocabularySize), request.Sampling, request.Seed, promptTokens, output, _options.SamplingSlack, _options.MaxSlackFraction, _options.MinSlackPositions);

    private static VerificationResult Judge(CommitmentComparer comparer, ReexecutionObserver observer, IReadOnlyList<int> output)
    {
        if (observer.FirstEngineFault >= 0 || observer.Positions != output.Count || !comparer.IsComplete)
        {
            return VerificationResult.Inconclusive(FraudReason.None, $"the engine reported {observer.Positions} of {output.Count} positions consistently (fault at {observer.FirstEngineFault}).");
        }

        if (comparer.FirstFailure is { } chunk)
        {
            return VerificationResult.Fraud(FraudReason.ActivationMismatch, chunk.FirstPosition, Truncate(
                $"{(chunk.Chunk < 0 ? "prompt" : "chunk " + chunk.Chunk)}: {chunk.Mismatches}/{chunk.TopK} mismatches, median relative error {chunk.MedianRelativeError:G3}, trimmed mean {chunk.TrimmedMeanRelativeError:G3}."));
        }

        if (observer.FirstSamplingFailure >= 0)
        {
            return VerificationResult.Fraud(FraudReason.SamplingMismatch, observer.FirstSamplingFailure,
                $"position {observer.FirstSamplingFailure}: claimed token {output[observer.FirstSamplingFailure]}, the sampler picks {observer.SampledAtFailure} (raw logit gap {observer.LogitGapAtFailure.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)}, slack used at {observer.SlackUsed} positions).");
        }

        return VerificationResult.Valid($"{output.Count} tokens, {comparer.CompletedChunks - 1} chunks and the prompt, slack used at {observer.SlackUsed} positions.");
    }

    private (InferenceRequest Request, InferenceReceipt Receipt, ActivationCommitment Commitment, CommitmentBinding Binding, IReadOnlyList<int> PromptTokens, IReadOnlyList<int> Output)? Prepare(VerificationCase c, out VerificationResult? result)
    {
        result = CheckSignatures(c);
        if (result is not null)
        {
            return null;
        }

        var request = c.Request.Message;
        var receipt = c.Receipt.Message;
        var output = c.OutputTokens;
        if (receipt.RequestId != new RequestId(c.Request.Hash))
        {
            result = VerificationResult.Fraud(FraudReason.RequestMismatch, -1, "the receipt answers another request.");
            return null;
        }

        if (!request.MatchesInput(c.Prompt.Span))
        {
            result = VerificationResult.Inconclusive(FraudReason.InputMismatch, "the prompt bytes supplied do not match the request's input root.");
            return null;
        }

        if (receipt.InputRoot != request.InputRoot)
        {
            result = VerificationResult.Fraud(FraudReason.InputMismatch, -1, "the receipt's input root differs from the signed request's.");
            return null;
        }

        int[] outputArray = [.. output];
        if (outputArray.Length != receipt.OutputTokenCount || MerkleTree.FromTokens(outputArray).Root != receipt.OutputRoot)
        {
            result = VerificationResult.Inconclusive(FraudReason.OutputMismatch, "the output tokens supplied do not match the receipt's output root.");
            return null;
        }

        if (receipt.ModelId != request.ModelId)
        {
            result = VerificationResult.Fraud(FraudReason.ModelMismatch, -1, "the receipt names another model than the request.");
            return null;
        }

        if (receipt.ModelId != _engine.Model.Id || !_options.EngineCompatibility(receipt.Engine, _engine.Identity))
        {
            result = VerificationResult.Inconclusive(FraudReason.ModelMismatch, Truncate($"this verifier runs {_engine.Model.Id} on {_engine.Identity}; the receipt names {receipt.ModelId} on {receipt.Engine}."));
            return null;
        }

        var binding = new CommitmentBinding(receipt.RequestId, receipt.ModelId, receipt.Engine, receipt.InputRoot, receipt.OutputRoot);
        ActivationCommitment commitment;
        try
        {
            commitment = ActivationCommitment.Decode(receipt.Commitment.Span);
        }
        catch (PoIPDecodeException e)
        {
            result = VerificationResult.Fraud(FraudReason.MalformedCommitment, -1, Truncate(e.Message));
            return null;
        }

        if (_engine.Model.EmbeddingLength is < 2 or > CommitmentParameters.MaxHiddenSize)
        {
            result = VerificationResult.Inconclusive(FraudReason.ModelMismatch, $"a hidden size of {_engine.Model.EmbeddingLength} cannot be committed.");
            return null;
        }

        var standard = CommitmentParameters.Standard(_engine.Model.EmbeddingLength, request.MaxTokens, _options.Aggregation);
        if (commitment.HiddenSize != _engine.Model.EmbeddingLength || commitment.OutputTokenCount != output.Count || commitment.Parameters != standard)
        {
            result = VerificationResult.Fraud(FraudReason.MalformedCommitment, -1, Truncate(
                $"the commitment ({commitment.Parameters}, width {commitment.HiddenSize}, {commitment.OutputTokenCount} tokens) is not the standard one ({standard}, width {_engine.Model.EmbeddingLength}, {output.Count} tokens)."));
            return null;
        }

        string prompt;
        IReadOnlyList<int> promptTokens;
        try
        {
            prompt = new UTF8Encoding(false, true).GetString(c.Prompt.Span);
            promptTokens = _engine.Tokenize(prompt, addBeginOfSequence: true);
        }
        catch (Exception e) when (e is DecoderFallbackException or EngineException)
        {
            result = VerificationResult.Inconclusive(FraudReason.InputMismatch, Truncate("the prompt cannot be tokenized: " + e.Message));
            return null;
        }

        result = TerminationChecker.Check(_engine, request, receipt, promptTokens.Count, outputArray, _options.ContextLength ?? _engine.Model.TrainedContextLength);
        return result is null ? (request, receipt, commitment, binding, promptTokens, outputArray) : null;
    }

    private static VerificationResult? CheckSignatures(VerificationCase c)
    {
        try
        {
            var request = SignedMessage.Open<InferenceRequest>(c.Request.Envelope.Encoded);
            if (request.Signer != request.Message.ClientId)
            {
                return VerificationResult.Inconclusive(FraudReason.BadSignature, "the request is not signed by its client.");
            }
        }
        catch (Exception e) when (e is SignatureException or PoIPDecodeException)
        {
            return VerificationResult.Inconclusive(FraudReason.BadSignature, Truncate("request: " + e.Message));
        }

        try
        {
            var receipt = SignedMessage.Open<InferenceReceipt>(c.Receipt.Envelope.Encoded);
            if (receipt.Signer != receipt.Message.NodeId)
            {
                return VerificationResult.Inconclusive(FraudReason.BadSignature, "the receipt is not signed by its node.");
            }
        }
        catch (Exception e) when (e is SignatureException or PoIPDecodeException)
        {
            return VerificationResult.Inconclusive(FraudReason.BadSignature, Truncate("receipt: " + e.Message));
        }

        return null;
    }

    internal static string Truncate(string detail) => detail.Length <= 512 ? detail : detail[..509] + "...";
}
