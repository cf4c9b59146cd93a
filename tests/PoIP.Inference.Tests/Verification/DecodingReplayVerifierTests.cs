using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Verification;

namespace PoIP.Inference.Tests.Verification;

/// <summary>The verifier's second stage: a sampling dispute settled by replaying the node's decoding.</summary>
public sealed class DecodingReplayVerifierTests : IDisposable
{
    private const string Prompt = "the cat";
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)11, 32).ToArray());
    private readonly Ed25519KeyPair _node = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)12, 32).ToArray());

    public void Dispose()
    {
        _client.Dispose();
        _node.Dispose();
    }

    /// <summary>No slack at all: any decode-vs-prefill flip is a dispute for the replay to settle.</summary>
    private static ReexecutionVerifierOptions Strict(DecodingReplayPolicy policy = DecodingReplayPolicy.WhenDisputed) =>
        ProofFixture.Options() with { SamplingSlack = 0, DecodingReplay = policy, Thresholds = CommitmentThresholds.Default with { MaxMedianRelativeError = 1, MaxTrimmedMeanRelativeError = 1 } };

    [Fact]
    public async Task Verify_HonestNoisyDecoder_TeacherForcingDisputesReplayConfirmsValid()
    {
        var node = Noisy();
        var (vc, stageOneFailure) = await FirstHonestCaseDisputedByTeacherForcingAsync(node);

        var verifierEngine = Noisy();
        var report = await new ReexecutionVerifier(verifierEngine, Strict()).VerifyWithDetailsAsync(vc);

        Assert.Equal(VerdictOutcome.Valid, report.Result.Outcome);
        Assert.True(report.ReplayExact);
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.SamplingMismatch, stageOneFailure), (report.TeacherForced!.Result.Outcome, report.TeacherForced.Result.Reason, report.TeacherForced.Result.FirstFailingPosition));
        Assert.Equal((1, 1), (verifierEngine.TeacherForceCalls, verifierEngine.ReplayCalls));
        Assert.All(report.Chunks, chunk => Assert.True(chunk.IsExact));
    }

    [Fact]
    public async Task Verify_ReplayNever_TeacherForcedMismatchStandsAsFraud()
    {
        var (vc, stageOneFailure) = await FirstHonestCaseDisputedByTeacherForcingAsync(Noisy());
        var verifierEngine = Noisy();
        var result = await new ReexecutionVerifier(verifierEngine, Strict(DecodingReplayPolicy.Never)).VerifyAsync(vc);
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.SamplingMismatch, stageOneFailure), (result.Outcome, result.Reason, result.FirstFailingPosition));
        Assert.Equal(0, verifierEngine.ReplayCalls);
    }

    [Fact]
    public async Task Verify_EngineCannotReplay_SamplingMismatchInconclusiveNeverFraud()
    {
        var (vc, _) = await FirstHonestCaseDisputedByTeacherForcingAsync(Noisy());
        var result = await new ReexecutionVerifier(new FakeEngine(ProofFixture.Real, decodeNoise: 1e-2, canReplay: false), Strict()).VerifyAsync(vc);
        Assert.Equal((VerdictOutcome.Inconclusive, FraudReason.SamplingMismatch), (result.Outcome, result.Reason));
        Assert.Contains("Not confirmed", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_PromptPrefillTheEngineCannotReproduce_SamplingMismatchInconclusive()
    {
        // The node prefilled the 8-token prompt in one micro-batch; this engine's are at most 4 tokens.
        var (vc, _) = await FirstHonestCaseDisputedByTeacherForcingAsync(Noisy());
        var result = await new ReexecutionVerifier(new FakeEngine(ProofFixture.Real, decodeNoise: 1e-2, maxReplayMicroBatch: 4), Strict()).VerifyAsync(vc);
        Assert.Equal((VerdictOutcome.Inconclusive, FraudReason.SamplingMismatch), (result.Outcome, result.Reason));
        Assert.Contains("micro-batch 8 is outside", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_NodeMicroBatchLargerThanEnginesButPromptShorter_Replayed()
    {
        var big = new EngineIdentity("fake", "1", "cpu", "", false, "f32", 4096);
        var (vc, _) = await FirstHonestCaseDisputedByTeacherForcingAsync(new FakeEngine(ProofFixture.Real, decodeNoise: 1e-2, identity: big));
        var report = await new ReexecutionVerifier(Noisy(), Strict()).VerifyWithDetailsAsync(vc);
        Assert.Equal(VerdictOutcome.Valid, report.Result.Outcome);
        Assert.True(report.ReplayExact);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(-1)]
    public async Task Verify_TokenSwappedInsideTheSlack_CaughtExactlyByTheReplay(int position)
    {
        // A cheater picks another token where it likes, then decodes on from there honestly, so its
        // commitment is exactly what its decoding computed. A slack wide enough to accept any token
        // lets the teacher-forced check pass it; the exact replay does not.
        var node = Noisy();
        var honest = await GenerateAsync(node, 5);
        int at = position < 0 ? honest.Tokens.Length - 1 : position;
        int[] tokens = [.. honest.Tokens];
        tokens[at] = (tokens[at] + 7) % FakeModel.Vocabulary;
        if (tokens[at] <= 1)
        {
            tokens[at] += 2;
        }

        var builder = CommitmentBuilder.ForModel(node.Model, honest.MaxTokens);
        await node.ReplayDecodingAsync(node.Tokenize(Prompt, true), tokens, node.Identity.Ubatch, builder);
        var vc = Case(honest.Request, tokens, honest.Stop, builder, node);
        var wide = Strict() with { SamplingSlack = 1000, MaxSlackFraction = 1 };

        var slackOnly = await new ReexecutionVerifier(Noisy(), wide with { DecodingReplay = DecodingReplayPolicy.Never }).VerifyAsync(vc);
        var report = await new ReexecutionVerifier(Noisy(), wide).VerifyWithDetailsAsync(vc);

        Assert.True(slackOnly.Outcome == VerdictOutcome.Valid, slackOnly.ToString());
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.SamplingMismatch, at), (report.Result.Outcome, report.Result.Reason, report.Result.FirstFailingPosition));
        Assert.True(report.ReplayExact);
        Assert.Contains("exact replay", report.Result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_HonestTokensCommitmentFromTeacherForcing_ReplayNotExactStillValid()
    {
        // Honest tokens, but the commitment computed by one prefill (the cheap-model attack's recipe):
        // the replay cannot match it bit for bit, and the tokens are still exactly the sampler's picks.
        var node = Noisy();
        var honest = await GenerateAsync(node, 3);
        var builder = CommitmentBuilder.ForModel(node.Model, honest.MaxTokens);
        await node.TeacherForceAsync(node.Tokenize(Prompt, true), honest.Tokens, builder);
        var vc = Case(honest.Request, honest.Tokens, honest.Stop, builder, node);

        var report = await new ReexecutionVerifier(Noisy(), Strict(DecodingReplayPolicy.Always) with { SamplingSlack = 0.05f }).VerifyWithDetailsAsync(vc);

        Assert.False(report.ReplayExact);
        Assert.Equal(VerdictOutcome.Valid, report.Result.Outcome);
    }

    [Theory]
    [InlineData("cpu", VerdictOutcome.Fraud)]
    [InlineData("cuda", VerdictOutcome.Valid)]
    public async Task Verify_SwappedTokenWithSpoiledCommitment_StrictOnlyWhereTheBackendReplaysExactly(string backend, VerdictOutcome expected)
    {
        // The cheater swaps a token and commits by one prefill, so the replay cannot reproduce its
        // commitment bit for bit. On the CPU backend the replay is judged strictly anyway (same identity
        // ⇒ same bits); on a GPU backend it is not assumed exact, so the slack (here wide) decides.
        var identity = new EngineIdentity("fake", "1", backend, "", false, "f32", 512);
        var node = new FakeEngine(ProofFixture.Real, decodeNoise: 1e-2, identity: identity);
        var honest = await GenerateAsync(node, 6);
        int[] tokens = [.. honest.Tokens];
        int at = tokens.Length / 2;
        tokens[at] = 2 + ((tokens[at] + 5) % (FakeModel.Vocabulary - 2));
        var builder = CommitmentBuilder.ForModel(node.Model, honest.MaxTokens);
        await node.TeacherForceAsync(node.Tokenize(Prompt, true), tokens, builder);
        var vc = Case(honest.Request, tokens, honest.Stop, builder, node);

        var verifier = new FakeEngine(ProofFixture.Real, decodeNoise: 1e-2, identity: identity);
        var report = await new ReexecutionVerifier(verifier, Strict() with { SamplingSlack = 1000, MaxSlackFraction = 1 }).VerifyWithDetailsAsync(vc);

        Assert.Equal(1, verifier.ReplayCalls);
        Assert.False(report.ReplayExact);
        Assert.Equal(expected, report.Result.Outcome);
        if (expected == VerdictOutcome.Fraud)
        {
            Assert.Equal((FraudReason.SamplingMismatch, at), (report.Result.Reason, report.Result.FirstFailingPosition));
        }
    }

    [Fact]
    public async Task Verify_CheapModelTokensHonestCommitment_FraudAfterReplay()
    {
        var node = Noisy();
        var cheap = await GenerateAsync(ProofFixture.CheapSmall(), 4, node.Model.Id);
        var builder = CommitmentBuilder.ForModel(node.Model, cheap.MaxTokens);
        await node.ReplayDecodingAsync(node.Tokenize(Prompt, true), cheap.Tokens, node.Identity.Ubatch, builder);
        var vc = Case(cheap.Request, cheap.Tokens, cheap.Stop, builder, node);

        var report = await new ReexecutionVerifier(Noisy(), Strict() with { SamplingSlack = 0.05f }).VerifyWithDetailsAsync(vc);

        Assert.Equal((VerdictOutcome.Fraud, FraudReason.SamplingMismatch), (report.Result.Outcome, report.Result.Reason));
        Assert.True(report.ReplayExact);
    }

    [Fact]
    public async Task Verify_HonestActivationsOutsideThresholdsOfThePrefill_ReplayConfirmsValid()
    {
        // Decode noise of 1e-2 puts the honest commitment outside the default thresholds (5e-3) of the
        // teacher-forced comparison; the replay reproduces it bit for bit.
        var node = Noisy();
        var honest = await GenerateAsync(node, 8);
        var vc = Case(honest.Request, honest.Tokens, honest.Stop, honest.Builder, node);
        var report = await new ReexecutionVerifier(Noisy(), ProofFixture.Options()).VerifyWithDetailsAsync(vc);
        Assert.Equal(FraudReason.ActivationMismatch, report.TeacherForced!.Result.Reason);
        Assert.Equal(VerdictOutcome.Valid, report.Result.Outcome);
        Assert.True(report.ReplayExact);
    }

    [Fact]
    public async Task Verify_OtherModelsCommitment_ActivationFraudStandsAfterReplay()
    {
        var other = ProofFixture.OtherModel();
        var claimed = Noisy();
        var g = await GenerateAsync(other, 9, claimed.Model.Id);
        var vc = Case(g.Request, g.Tokens, g.Stop, g.Builder, claimed);
        var verifierEngine = Noisy();
        var report = await new ReexecutionVerifier(verifierEngine, ProofFixture.Options()).VerifyWithDetailsAsync(vc);
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.ActivationMismatch), (report.Result.Outcome, report.Result.Reason));
        Assert.Contains("decoding replay", report.Result.Detail, StringComparison.Ordinal);
        Assert.Equal(1, verifierEngine.ReplayCalls);
    }

    [Fact]
    public async Task Verify_ActivationMismatchEngineCannotReplay_FraudStands()
    {
        var node = Noisy();
        var honest = await GenerateAsync(node, 8);
        var vc = Case(honest.Request, honest.Tokens, honest.Stop, honest.Builder, node);
        var result = await new ReexecutionVerifier(new FakeEngine(ProofFixture.Real, decodeNoise: 1e-2, canReplay: false), ProofFixture.Options()).VerifyAsync(vc);
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.ActivationMismatch), (result.Outcome, result.Reason));
    }

    [Fact]
    public async Task Verify_ValidButActivationsAboveReplayTrigger_ReplayedAndStillValid()
    {
        // The KV-cache cheat's activations sit inside the fraud thresholds but above the honest prefill's
        // (docs/proofs.md §7c): a receipt judged valid is replayed when a chunk exceeds the trigger.
        var node = ProofFixture.Honest();
        var honest = await GenerateAsync(node, 2);
        var builder = CommitmentBuilder.ForModel(node.Model, honest.MaxTokens);
        await node.ReplayDecodingAsync(node.Tokenize(Prompt, true), honest.Tokens, node.Identity.Ubatch, builder);
        var verifierEngine = ProofFixture.Honest();
        var report = await new ReexecutionVerifier(verifierEngine, ProofFixture.Options() with { ReplayAboveTrimmedMeanError = 0 })
            .VerifyWithDetailsAsync(Case(honest.Request, honest.Tokens, honest.Stop, builder, node));
        Assert.Equal((VerdictOutcome.Valid, 1), (report.Result.Outcome, verifierEngine.ReplayCalls));
        Assert.Equal(VerdictOutcome.Valid, report.TeacherForced?.Result.Outcome);
    }

    [Fact]
    public async Task Verify_ReplayOnly_NoPrefillHonestValidAndSwappedTokenFraud()
    {
        // ReplayOnly: the replay alone judges (one replay, no teacher-forced prefill) with the verdicts of Always.
        var node = Noisy();
        var honest = await GenerateAsync(node, 5);
        var builder = CommitmentBuilder.ForModel(node.Model, honest.MaxTokens);
        await node.ReplayDecodingAsync(node.Tokenize(Prompt, true), honest.Tokens, node.Identity.Ubatch, builder);
        var verifier = Noisy();
        var valid = await new ReexecutionVerifier(verifier, Strict(DecodingReplayPolicy.ReplayOnly)).VerifyWithDetailsAsync(Case(honest.Request, honest.Tokens, honest.Stop, builder, node));
        Assert.Equal((VerdictOutcome.Valid, 0, 1), (valid.Result.Outcome, verifier.TeacherForceCalls, verifier.ReplayCalls));
        Assert.Null(valid.TeacherForced);

        int[] tokens = [.. honest.Tokens];
        int at = tokens.Length / 2;
        tokens[at] = 2 + ((tokens[at] + 5) % (FakeModel.Vocabulary - 2));
        var cheat = CommitmentBuilder.ForModel(node.Model, honest.MaxTokens);
        await node.ReplayDecodingAsync(node.Tokenize(Prompt, true), tokens, node.Identity.Ubatch, cheat);
        var fraud = await new ReexecutionVerifier(Noisy(), Strict(DecodingReplayPolicy.ReplayOnly)).VerifyAsync(Case(honest.Request, tokens, honest.Stop, cheat, node));
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.SamplingMismatch, at), (fraud.Outcome, fraud.Reason, fraud.FirstFailingPosition));
    }

    [Fact]
    public void Options_ReplayTriggerNaNOrNegative_Rejected()
    {
        Assert.Throws<ArgumentException>(() => new ReexecutionVerifierOptions { ReplayAboveTrimmedMeanError = double.NaN }.EnsureValid());
        Assert.Throws<ArgumentException>(() => new ReexecutionVerifierOptions { ReplayAboveTrimmedMeanError = -1e-3 }.EnsureValid());
    }

    [Fact]
    public async Task Verify_UndisputedHonestReceipt_NoReplay()
    {
        var node = ProofFixture.Honest();
        var honest = await GenerateAsync(node, 2);
        var builder = CommitmentBuilder.ForModel(node.Model, honest.MaxTokens);
        await node.ReplayDecodingAsync(node.Tokenize(Prompt, true), honest.Tokens, node.Identity.Ubatch, builder);
        var verifierEngine = ProofFixture.Honest();
        var report = await new ReexecutionVerifier(verifierEngine, ProofFixture.Options()).VerifyWithDetailsAsync(Case(honest.Request, honest.Tokens, honest.Stop, builder, node));
        Assert.Equal(VerdictOutcome.Valid, report.Result.Outcome);
        Assert.Equal(0, report.SlackUsed);
        Assert.Null(report.ReplayExact);
        Assert.Equal(0, verifierEngine.ReplayCalls);
    }

    private static FakeEngine Noisy() => new(ProofFixture.Real, decodeNoise: 1e-2);

    private sealed record Generation(SignedMessage<InferenceRequest> Request, int[] Tokens, StopReason Stop, CommitmentBuilder Builder, int MaxTokens);

    private async Task<Generation> GenerateAsync(FakeEngine engine, ulong seed, ModelId? claimedModel = null)
    {
        const int maxTokens = 64;
        var sampling = ProofFixture.Sampled();
        var request = SignedMessage.Create(_client, InferenceRequest.ForPrompt(Prompt, claimedModel ?? engine.Model.Id, _client.PeerId, sampling, seed, maxTokens, TokenAmount.ParseTokens("0.01"), seed, ProofFixture.Time().GetUtcNow().AddHours(1)));
        var builder = CommitmentBuilder.ForModel(engine.Model, maxTokens);
        var tokens = new List<int>();
        var stop = StopReason.None;
        await foreach (var t in engine.GenerateAsync(new GenerationRequest(engine.Tokenize(Prompt, true), sampling, seed, maxTokens), builder))
        {
            tokens.Add(t.TokenId);
            stop = t.Stop;
        }

        return new Generation(request, [.. tokens], stop, builder, maxTokens);
    }

    private VerificationCase Case(SignedMessage<InferenceRequest> request, int[] tokens, StopReason stop, CommitmentBuilder builder, FakeEngine node) =>
        new(request, SignedMessage.Create(_node, ProofFixture.Receipt(request, _node.PeerId, node.Identity, tokens, stop, builder)), System.Text.Encoding.UTF8.GetBytes(Prompt), tokens);

    /// <summary>An honest receipt of <paramref name="node"/> whose teacher-forced check, with no slack, finds a sampling mismatch.</summary>
    private async Task<(VerificationCase Case, int FirstFailure)> FirstHonestCaseDisputedByTeacherForcingAsync(FakeEngine node)
    {
        for (ulong seed = 1; seed < 60; seed++)
        {
            var g = await GenerateAsync(node, seed);
            var vc = Case(g.Request, g.Tokens, g.Stop, g.Builder, node);
            var stageOne = await new ReexecutionVerifier(Noisy(), Strict(DecodingReplayPolicy.Never)).VerifyAsync(vc);
            if (stageOne.Reason == FraudReason.SamplingMismatch)
            {
                return (vc, stageOne.FirstFailingPosition);
            }
        }

        throw new InvalidOperationException("no seed in 1..59 gave a near tie that decode noise of 1e-2 flips");
    }
}
