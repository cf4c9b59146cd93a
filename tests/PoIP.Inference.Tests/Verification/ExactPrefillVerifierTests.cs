using PoIP.Core.Engine;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Gguf;
using PoIP.Inference.Llama;
using PoIP.Inference.Tests.Llama;
using PoIP.Inference.Verification;

namespace PoIP.Inference.Tests.Verification;

/// <summary>
/// A small synthesized Q4_K_M model on real llama.cpp in the configuration whose teacher-forced prefill
/// computes decoding bit for bit (weight repacking off, flash attention on, F16 KV, micro-batch 32).
/// </summary>
public sealed class ExactPrefillEngineFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-exact-prefill-").FullName;
    private LlamaInferenceEngine? _engine;

    public LlamaInferenceEngine Engine => _engine ?? throw new InvalidOperationException("engine not started");

    public string ModelPath => Path.Combine(_directory, "synth-q4_k_m.gguf");

    public static LlamaEngineOptions ExactOptions(string path) => new()
    {
        ModelPath = path,
        Threads = 1,
        ContextSize = 256,
        MicroBatchSize = 32,
        MaxPromptTokens = 64,
        MaxOutputTokens = 160,
        MaxConcurrentSequences = 1,
        FlashAttention = true,
        KvCacheType = KvCacheType.F16,
        WeightRepacking = false,
    };

    public async Task InitializeAsync()
    {
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 256, Layers = 2, Heads = 4, KvHeads = 2, FeedForward = 512, Vocabulary = 512, ContextLength = 256, Type = SynthesisType.Q4_K_M, Seed = 3 }, ModelPath);
        _engine = await LlamaInferenceEngine.LoadAsync(ExactOptions(ModelPath));
    }

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>docs/proofs.md §9b, session 7: a prefill equal to decoding is judged like an exact replay (no slack, no replay).</summary>
public sealed class ExactPrefillVerifierTests(ExactPrefillEngineFixture fixture) : IClassFixture<ExactPrefillEngineFixture>, IDisposable
{
    private const string Prompt = "Once upon a time";
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)21, 32).ToArray());
    private readonly Ed25519KeyPair _node = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)22, 32).ToArray());

    public void Dispose()
    {
        _client.Dispose();
        _node.Dispose();
    }

    [Fact]
    public void Load_ExactConfigurationOnKQuantWeights_ClaimsExactPrefillUnderItsOwnIdentity()
    {
        Assert.True(fixture.Engine.PrefillMatchesDecoding);
        Assert.EndsWith("-norepack", fixture.Engine.Identity.CpuVariant, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, true, 32)] // repacking on: other kernels
    [InlineData(false, false, 32)] // flash attention off: batched attention matrix products
    [InlineData(false, true, 64)] // 64 rows: tiled flash attention
    public async Task Load_AnyConditionMissing_NoExactPrefillClaimed(bool repack, bool flash, int microBatch)
    {
        await using var engine = await LlamaInferenceEngine.LoadAsync(ExactPrefillEngineFixture.ExactOptions(fixture.ModelPath) with { WeightRepacking = repack, FlashAttention = flash, MicroBatchSize = microBatch });

        Assert.False(engine.PrefillMatchesDecoding);
        Assert.Equal(!repack, engine.Identity.CpuVariant.EndsWith("-norepack", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Load_StoriesF32Weights_NoExactPrefillClaimed()
    {
        // F32 weights take llamafile's batch kernel for two rows or more: measured inexact at every position.
        await using var engine = await LlamaInferenceEngine.LoadAsync(ExactPrefillEngineFixture.ExactOptions(StoriesModel.Path));

        Assert.False(engine.PrefillMatchesDecoding);
    }

    [Theory]
    [InlineData(5UL, 0.8f)]
    [InlineData(77UL, 1.1f)]
    public async Task TeacherForce_ExactConfiguration_EqualsDecodingBitForBit(ulong seed, float temperature)
    {
        var engine = fixture.Engine;
        var request = new GenerationRequest(engine.Tokenize(Prompt, true), ProofFixture.Sampled(temperature), seed, 150);
        var decoded = new RecordingObserver();
        var tokens = (await StoriesModel.CollectAsync(engine, request, decoded)).Select(t => t.TokenId).ToList();
        Assert.True(request.PromptTokens.Count + tokens.Count > 2 * engine.Identity.Ubatch, "prompt + output must span several micro-batches");

        var forced = new RecordingObserver();
        await engine.TeacherForceAsync(request.PromptTokens, tokens, forced);

        Assert.Equal(decoded.PrefillHidden, forced.PrefillHidden);
        Assert.Equal(decoded.Tokens.Count, forced.Tokens.Count);
        for (int i = 0; i < decoded.Tokens.Count; i++)
        {
            Assert.True(decoded.Tokens[i].Hidden.AsSpan().SequenceEqual(forced.Tokens[i].Hidden), $"hidden state of position {i} differs");
            Assert.True(decoded.Tokens[i].Logits.AsSpan().SequenceEqual(forced.Tokens[i].Logits), $"logits of position {i} differ");
        }
    }

    [Fact]
    public async Task Verify_ExactPrefillHonestReceipt_ValidWithoutSlackOrReplay()
    {
        var engine = fixture.Engine;
        var request = Request(ProofFixture.Sampled(0.9f), 9, 120);
        var file = await ReceiptIssuer.IssueAsync(engine, _node, request, Prompt, TokenAmount.Zero, ProofFixture.Time());

        var report = await new ReexecutionVerifier(engine, new ReexecutionVerifierOptions()).VerifyWithDetailsAsync(file.ToVerificationCase());

        Assert.Equal(VerdictOutcome.Valid, report.Result.Outcome);
        Assert.Equal(0, report.SlackUsed);
        Assert.Null(report.TeacherForced); // no replay ran
        Assert.Null(report.ReplayExact);
        Assert.All(report.Chunks, chunk => Assert.True(chunk.IsExact));
        Assert.Contains("computes the node's decoding bit for bit", report.Result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_CheaterTokenAtNearTie_FraudWithoutSlackWhereTheSlackAloneAcceptsIt()
    {
        // Greedy: the honest output, and the position where the runner-up is closest to the top logit.
        var engine = fixture.Engine;
        var promptTokens = engine.Tokenize(Prompt, true);
        var decoded = new RecordingObserver();
        var honest = (await StoriesModel.CollectAsync(engine, new GenerationRequest(promptTokens, SamplingParameters.Greedy, 1, 100), decoded)).Select(t => t.TokenId).ToArray();
        var (at, runnerUp, gap) = Enumerable.Range(0, honest.Length).Select(i => NearTie(decoded.Tokens[i].Logits)).Select((t, i) => (i, t.RunnerUp, t.Gap))
            .Where(t => t.RunnerUp != engine.Model.EndOfSequenceToken && t.RunnerUp != engine.Model.BeginOfSequenceToken).MinBy(t => t.Gap);
        Assert.True(gap < 2 * new ReexecutionVerifierOptions().SamplingSlack, $"the closest tie (gap {gap} at {at}) must lie inside the default slack for this test to mean anything");

        // The cheater stops at that position, taking the runner-up there, and commits exactly what its decoding computes.
        int[] tokens = [.. honest[..at], runnerUp];
        var request = Request(SamplingParameters.Greedy, 1, tokens.Length);
        var builder = CommitmentBuilder.ForModel(engine.Model, tokens.Length);
        await engine.ReplayDecodingAsync(promptTokens, tokens, engine.Identity.Ubatch, builder);
        var receipt = SignedMessage.Create(_node, ProofFixture.Receipt(request, _node.PeerId, engine.Identity, tokens, StopReason.MaxTokens, builder));
        var vc = new VerificationCase(request, receipt, System.Text.Encoding.UTF8.GetBytes(Prompt), tokens);

        var slackOnly = await new ReexecutionVerifier(engine, new ReexecutionVerifierOptions { BitExactPrefill = (_, _) => false, DecodingReplay = DecodingReplayPolicy.Never }).VerifyWithDetailsAsync(vc);
        var report = await new ReexecutionVerifier(engine, new ReexecutionVerifierOptions()).VerifyWithDetailsAsync(vc);

        Assert.Equal((VerdictOutcome.Valid, 1), (slackOnly.Result.Outcome, slackOnly.SlackUsed));
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.SamplingMismatch, at), (report.Result.Outcome, report.Result.Reason, report.Result.FirstFailingPosition));
        Assert.Null(report.TeacherForced); // decided by the prefill, no replay
        Assert.Contains("teacher-forced prefill that computes the node's decoding bit for bit", report.Result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cpu", "avx512-norepack", true, "f16", 32, 63, true)]
    [InlineData("cpu", "avx512-norepack", true, "f16", 63, 1, true)]
    [InlineData("cpu", "avx512", true, "f16", 32, 32, false)] // repacking on
    [InlineData("cpu", "avx512-norepack", false, "f16", 32, 32, false)] // flash attention off
    [InlineData("cpu", "avx512-norepack", true, "f32", 32, 32, false)] // KV type not measured
    [InlineData("cpu", "avx512-norepack", true, "f16", 64, 32, false)] // the node's prompt micro-batch takes the tiled path
    [InlineData("cpu", "avx512-norepack", true, "f16", 32, 64, false)] // the verifier's prefill would
    [InlineData("cuda", "avx512-norepack", true, "f16", 32, 32, false)]
    public void DefaultBitExactPrefill_Conditions(string backend, string variant, bool flash, string kv, int nodeUbatch, int verifierUbatch, bool expected)
    {
        var node = new EngineIdentity("llama.cpp", "c0c7e147", backend, variant, flash, kv, nodeUbatch);

        Assert.Equal(expected, ReexecutionVerifierOptions.DefaultBitExactPrefill(node, node with { Ubatch = verifierUbatch }));
        Assert.False(ReexecutionVerifierOptions.DefaultBitExactPrefill(node, node with { Ubatch = verifierUbatch, Build = "other" }));
    }

    private SignedMessage<InferenceRequest> Request(SamplingParameters sampling, ulong seed, int maxTokens) =>
        SignedMessage.Create(_client, InferenceRequest.ForPrompt(Prompt, fixture.Engine.Model.Id, _client.PeerId, sampling, seed, maxTokens, TokenAmount.FromTokens(1), seed, ProofFixture.Time().GetUtcNow().AddHours(1)));

    private static (int RunnerUp, float Gap) NearTie(float[] logits)
    {
        int best = 0, second = -1;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                second = best;
                best = i;
            }
            else if (second < 0 || logits[i] > logits[second])
            {
                second = i;
            }
        }

        return (second, logits[best] - logits[second]);
    }
}
