using System.Diagnostics.CodeAnalysis;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Verification;

namespace PoIP.Testing.Verification;

/// <summary>
/// The detection matrix: for each case, generates an honest receipt with the honest engine (and its
/// <see cref="CommitmentBuilder"/>), verifies it, then plays every <see cref="ProofAttack"/> as a
/// cheating node would (signing its receipts with its own key, recomputing the commitment by an
/// honest prefill whenever that helps it) and counts what the verifier catches. Works with any
/// engines: fakes in unit tests, real llama.cpp engines (real model, its quantisation, a small
/// model) for calibration.
/// </summary>
public sealed class ProofMatrix
{
    private readonly IProofVerifier _verifier;
    private readonly ProofMatrixEngines _engines;
    private readonly TimeProvider _time;
    private readonly CommitmentAggregation _aggregation;

    /// <summary>
    /// Creates the runner; <paramref name="verifier"/> must run <see cref="ProofMatrixEngines.Honest"/>'s
    /// model and expect commitments summarised by <paramref name="aggregation"/>.
    /// </summary>
    public ProofMatrix(IProofVerifier verifier, ProofMatrixEngines engines, TimeProvider timeProvider, CommitmentAggregation aggregation = CommitmentAggregation.Mean)
    {
        _aggregation = aggregation;
        ArgumentNullException.ThrowIfNull(verifier);
        ArgumentNullException.ThrowIfNull(engines);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _verifier = verifier;
        _engines = engines;
        _time = timeProvider;
    }

    /// <summary>Runs every case and attack.</summary>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the cancellation token is optional in both overloads; no call binds ambiguously.")]
    public Task<ProofMatrixReport> RunAsync(IReadOnlyList<ProofMatrixCase> cases, CancellationToken cancellationToken = default) =>
        RunAsync(cases, Enum.GetValues<ProofAttack>(), cancellationToken);

    /// <summary>
    /// Runs every case honestly and plays only <paramref name="attacks"/> on it (an empty list runs
    /// honest receipts only; the other attacks' rows stay at zero).
    /// </summary>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the cancellation token is optional in both overloads; no call binds ambiguously.")]
    public async Task<ProofMatrixReport> RunAsync(IReadOnlyList<ProofMatrixCase> cases, IReadOnlyCollection<ProofAttack> attacks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(attacks);
        using var client = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)0xC1, 32).ToArray());
        using var node = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)0x4E, 32).ToArray());
        var honest = new Tally(null);
        var tallies = Enum.GetValues<ProofAttack>().ToDictionary(a => a, a => new Tally(a));
        var failures = new List<string>();
        ulong nonce = 0;
        foreach (var matrixCase in cases)
        {
            var context = new CaseContext(this, matrixCase, client, node, ++nonce);
            var honestClaim = await context.GenerateAsync(_engines.Honest, context.PromptTokens, matrixCase.Sampling, matrixCase.Seed, cancellationToken).ConfigureAwait(false);
            var honestResult = await context.VerifyAsync(context.Request, honestClaim, cancellationToken).ConfigureAwait(false);
            honest.Add(honestResult, failures, $"honest case '{matrixCase.Prompt}' seed {matrixCase.Seed}", honestIsGood: true);
            nonce += 1000;
            foreach (var attack in Enum.GetValues<ProofAttack>().Where(attacks.Contains))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (request, claim) = await AttackAsync(context, attack, honestClaim, nonce, cancellationToken).ConfigureAwait(false);
                if (claim is null || (request == context.Request && claim.SameAs(honestClaim)))
                {
                    tallies[attack].NotApplicable++;
                    continue;
                }

                var result = await context.VerifyAsync(request, claim, cancellationToken).ConfigureAwait(false);
                tallies[attack].Add(result, failures, $"{attack} on '{matrixCase.Prompt}' seed {matrixCase.Seed}", honestIsGood: false);
            }
        }

        return new ProofMatrixReport(honest.ToRow(), [.. tallies.Values.Select(t => t.ToRow())], failures);
    }

    private async Task<(SignedMessage<InferenceRequest> Request, Claim? Claim)> AttackAsync(CaseContext c, ProofAttack attack, Claim honest, ulong nonce, CancellationToken ct)
    {
        var mc = c.Case;
        var prompt = c.PromptTokens;
        var engine = _engines.Honest;
        switch (attack)
        {
            case ProofAttack.OtherModel:
                return (c.Request, _engines.OtherModel is null ? null : await c.GenerateAsync(_engines.OtherModel, prompt, mc.Sampling, mc.Seed, ct).ConfigureAwait(false));
            case ProofAttack.CheaperQuantisation:
                return (c.Request, _engines.CheaperQuantisation is null ? null : await c.GenerateAsync(_engines.CheaperQuantisation, prompt, mc.Sampling, mc.Seed, ct).ConfigureAwait(false));
            case ProofAttack.PromptChangedOneToken:
            {
                int[] changed = [.. prompt];
                int at = changed.Length / 2;
                changed[at] = OtherToken(changed[at], engine.Model);
                return (c.Request, await c.GenerateAsync(engine, changed, mc.Sampling, mc.Seed, ct).ConfigureAwait(false));
            }

            case ProofAttack.InputRootMismatch:
                return (c.Request, honest with { InputRoot = MerkleTree.FromText(mc.Prompt + " ", c.Request.Message.InputChunkSize).Root });
            case ProofAttack.OutputChangedStart:
            case ProofAttack.OutputChangedMiddle:
            case ProofAttack.OutputChangedEnd:
            {
                if (honest.Tokens.Length == 0)
                {
                    return (c.Request, null);
                }

                int at = attack == ProofAttack.OutputChangedStart ? 0 : attack == ProofAttack.OutputChangedMiddle ? honest.Tokens.Length / 2 : honest.Tokens.Length - 1;
                int[] tokens = [.. honest.Tokens];
                tokens[at] = OtherToken(tokens[at], engine.Model);
                return (c.Request, await c.CommitByPrefillAsync(engine, tokens, honest.Stop, ct).ConfigureAwait(false));
            }

            case ProofAttack.TruncatedOutput:
            {
                if (honest.Tokens.Length < 2)
                {
                    return (c.Request, null);
                }

                int keep = honest.Tokens.Length - Math.Max(1, honest.Tokens.Length / 4);
                return (c.Request, await c.CommitByPrefillAsync(engine, honest.Tokens[..keep], honest.Stop, ct).ConfigureAwait(false));
            }

            case ProofAttack.ExtendedOutput:
            {
                int extra = Math.Max(1, honest.Tokens.Length / 4);
                int[] tokens = [.. honest.Tokens, .. Enumerable.Range(0, extra).Select(i => honest.Tokens.Length > 0 ? OtherToken(honest.Tokens[i % honest.Tokens.Length], engine.Model) : 2)];
                return (c.Request, await c.CommitByPrefillAsync(engine, tokens, honest.Stop, ct).ConfigureAwait(false));
            }

            case ProofAttack.OtherSeed:
                return (c.Request, await c.GenerateAsync(engine, prompt, mc.Sampling, mc.Seed + 1, ct).ConfigureAwait(false));
            case ProofAttack.OtherTemperature:
            {
                var other = mc.Sampling with { Temperature = mc.Sampling.IsGreedy ? 0.8f : Math.Min(10f, (mc.Sampling.Temperature * 1.5f) + 0.3f) };
                return (c.Request, await c.GenerateAsync(engine, prompt, other, mc.Seed, ct).ConfigureAwait(false));
            }

            case ProofAttack.CheapModelDecode:
            {
                if (_engines.CheapSmallModel is null)
                {
                    return (c.Request, null);
                }

                var cheap = await c.GenerateAsync(_engines.CheapSmallModel, prompt, mc.Sampling, mc.Seed, ct).ConfigureAwait(false);
                return (c.Request, await c.CommitByPrefillAsync(engine, cheap.Tokens, cheap.Stop, ct).ConfigureAwait(false));
            }

            case ProofAttack.ReplayedReceipt:
            {
                var replayRequest = c.SignRequest(nonce);
                return (replayRequest, honest);
            }

            case ProofAttack.AdjacentQuantisation:
                return (c.Request, _engines.AdjacentQuantisation is null ? null : await c.GenerateAsync(_engines.AdjacentQuantisation, prompt, mc.Sampling, mc.Seed, ct).ConfigureAwait(false));
            case ProofAttack.KvCacheChanged:
            {
                if (_engines.OtherKvCache is null)
                {
                    return (c.Request, null);
                }

                // The same tokens as the honest node's are the output the standard demands: nothing to catch (n/a).
                var changed = await c.GenerateAsync(_engines.OtherKvCache, prompt, mc.Sampling, mc.Seed, ct).ConfigureAwait(false);
                return (c.Request, changed.Tokens.AsSpan().SequenceEqual(honest.Tokens) && changed.Stop == honest.Stop ? null : changed);
            }

            case ProofAttack.PromptTruncatedFront:
            {
                int drop = (prompt.Length - 1) / 4;
                return (c.Request, drop < 1 ? null : await c.GenerateAsync(engine, [prompt[0], .. prompt[(1 + drop)..]], mc.Sampling, mc.Seed, ct).ConfigureAwait(false));
            }

            case ProofAttack.StopSequenceIgnored:
            {
                if (honest.Stop != StopReason.StopSequence)
                {
                    return (c.Request, null);
                }

                var ignored = await c.GenerateAsync(engine, prompt, mc.Sampling with { StopSequences = [] }, mc.Seed, ct).ConfigureAwait(false);
                return (c.Request, ignored.Tokens.Length == honest.Tokens.Length ? null : ignored); // stopped at the same token anyway: n/a
            }

            case ProofAttack.StopSequenceForged:
            {
                if (honest.Tokens.Length < 2)
                {
                    return (c.Request, null);
                }

                return (c.Request, await c.CommitByPrefillAsync(engine, honest.Tokens[..(honest.Tokens.Length / 2)], StopReason.StopSequence, ct).ConfigureAwait(false));
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(attack));
        }
    }

    private static int OtherToken(int token, ModelDescriptor model)
    {
        int candidate = token;
        do
        {
            candidate = (candidate + 1) % model.VocabularySize;
        }
        while (candidate == model.EndOfSequenceToken || candidate == model.BeginOfSequenceToken);
        return candidate;
    }

    /// <summary>What a node claims: tokens, stop reason, input root and an encoded commitment producer.</summary>
    private sealed record Claim(int[] Tokens, StopReason Stop, Sha256Digest? InputRoot, CommitmentBuilder Builder, ModelDescriptor BuiltWith)
    {
        private static readonly CommitmentBinding Probe = new(default, default, new EngineIdentity("probe", "", "", "", false, "", 0), default, default);

        /// <summary>True when the claim is the honest one: same tokens, stop, input root and commitment.</summary>
        public bool SameAs(Claim other) =>
            Tokens.AsSpan().SequenceEqual(other.Tokens) && Stop == other.Stop && InputRoot == other.InputRoot && BuiltWith.Id == other.BuiltWith.Id
            && Builder.Build(Probe).Encode().AsSpan().SequenceEqual(other.Builder.Build(Probe).Encode());
    }

    private sealed class Tally(ProofAttack? attack)
    {
        private readonly Dictionary<FraudReason, int> _reasons = [];
        private readonly List<ChunkComparison> _worst = [];
        private int _slack;
        private int _replayed;
        private int _inconclusive;
        private int _cases;
        private int _caught;
        private int _missed;

        public int NotApplicable { get; set; }

        public void Add(ReexecutionReport report, List<string> failures, string what, bool honestIsGood)
        {
            var result = report.Result;
            _cases++;
            _slack += report.SlackUsed;
            _replayed += report.TeacherForced is null ? 0 : 1;

            // The teacher-forced stage's comparisons when a replay followed: both stages apply the
            // thresholds, and the prefill sits farther from decoding than the replay.
            var chunks = report.TeacherForced is { Chunks.Count: > 0 } forced ? forced.Chunks : report.Chunks;
            if (chunks.Count > 0)
            {
                _worst.Add(chunks.MaxBy(c => c.TrimmedMeanRelativeError));
            }

            if (result.Outcome == VerdictOutcome.Valid)
            {
                _missed++;
                if (!honestIsGood)
                {
                    failures.Add($"missed: {what}: {result.Detail}");
                }

                return;
            }

            _caught++;
            _inconclusive += result.Outcome == VerdictOutcome.Inconclusive ? 1 : 0;
            _reasons[result.Reason] = _reasons.GetValueOrDefault(result.Reason) + 1;
            if (honestIsGood)
            {
                failures.Add($"false positive: {what}: {result.Outcome} {result.Reason} at {result.FirstFailingPosition}: {result.Detail}");
            }
        }

        public ProofMatrixRow ToRow() => new(attack, _cases, _caught, _missed, NotApplicable, new Dictionary<FraudReason, int>(_reasons), [.. _worst], _slack, _replayed, _inconclusive);
    }

    private sealed class CaseContext
    {
        private readonly ProofMatrix _owner;
        private readonly Ed25519KeyPair _client;
        private readonly Ed25519KeyPair _node;

        public CaseContext(ProofMatrix owner, ProofMatrixCase matrixCase, Ed25519KeyPair client, Ed25519KeyPair node, ulong nonce)
        {
            _owner = owner;
            _client = client;
            _node = node;
            Case = matrixCase;
            PromptTokens = [.. owner._engines.Honest.Tokenize(matrixCase.Prompt, addBeginOfSequence: true)];
            Request = SignRequest(nonce);
        }

        public ProofMatrixCase Case { get; }

        public int[] PromptTokens { get; }

        public SignedMessage<InferenceRequest> Request { get; }

        public SignedMessage<InferenceRequest> SignRequest(ulong nonce) => SignedMessage.Create(_client, InferenceRequest.ForPrompt(
            Case.Prompt, _owner._engines.Honest.Model.Id, _client.PeerId, Case.Sampling, Case.Seed, Case.MaxTokens, TokenAmount.ParseTokens("0.01"), nonce, _owner._time.GetUtcNow().AddHours(1)));

        public async Task<Claim> GenerateAsync(IInferenceEngine engine, int[] promptTokens, SamplingParameters sampling, ulong seed, CancellationToken ct)
        {
            var builder = CommitmentBuilder.ForModel(engine.Model, Case.MaxTokens, _owner._aggregation);
            var tokens = new List<int>();
            var stop = StopReason.None;
            await foreach (var token in engine.GenerateAsync(new GenerationRequest(promptTokens, sampling, seed, Case.MaxTokens), builder, ct).ConfigureAwait(false))
            {
                tokens.Add(token.TokenId);
                stop = token.Stop;
            }

            return new Claim([.. tokens], stop, null, builder, engine.Model);
        }

        public async Task<Claim> CommitByPrefillAsync(IInferenceEngine engine, int[] tokens, StopReason stop, CancellationToken ct)
        {
            var builder = CommitmentBuilder.ForModel(engine.Model, Math.Max(tokens.Length, Case.MaxTokens), _owner._aggregation);
            await engine.TeacherForceAsync(PromptTokens, tokens, builder, ct).ConfigureAwait(false);
            return new Claim(tokens, stop, null, builder, engine.Model);
        }

        public async Task<ReexecutionReport> VerifyAsync(SignedMessage<InferenceRequest> request, Claim claim, CancellationToken ct)
        {
            var honest = _owner._engines.Honest;
            var requestId = new RequestId(Request.Hash);
            var outputRoot = MerkleTree.FromTokens(claim.Tokens).Root;
            var inputRoot = claim.InputRoot ?? Request.Message.InputRoot;
            var binding = new CommitmentBinding(requestId, honest.Model.Id, honest.Identity, inputRoot, outputRoot);
            var receipt = SignedMessage.Create(_node, new InferenceReceipt
            {
                RequestId = requestId,
                NodeId = _node.PeerId,
                ModelId = honest.Model.Id,
                InputRoot = inputRoot,
                OutputRoot = outputRoot,
                OutputTokenCount = claim.Tokens.Length,
                Commitment = claim.Builder.Build(binding).Encode(),
                Engine = honest.Identity,
                Timings = new InferenceTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, PromptTokens.Length, claim.Tokens.Length),
                Price = TokenAmount.ParseTokens("0.001"),
                StopReason = claim.Stop,
                IssuedAt = _owner._time.GetUtcNow(),
            });
            var prompt = System.Text.Encoding.UTF8.GetBytes(Case.Prompt);
            var verificationCase = new VerificationCase(request, receipt, prompt, claim.Tokens);
            return _owner._verifier is ReexecutionVerifier reexecution
                ? await reexecution.VerifyWithDetailsAsync(verificationCase, ct).ConfigureAwait(false)
                : new ReexecutionReport(await _owner._verifier.VerifyAsync(verificationCase, ct).ConfigureAwait(false), [], 0);
        }
    }
}
