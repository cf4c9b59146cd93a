using FsCheck;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Verification;

namespace PoIP.Inference.Tests.Verification;

public sealed class ReexecutionVerifierTests : IDisposable
{
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)1, 32).ToArray());
    private readonly Ed25519KeyPair _node = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)2, 32).ToArray());
    private readonly Ed25519KeyPair _other = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)3, 32).ToArray());
    private readonly FakeEngine _engine = ProofFixture.Honest();

    public void Dispose()
    {
        _client.Dispose();
        _node.Dispose();
        _other.Dispose();
    }

    private sealed record Honest(SignedMessage<InferenceRequest> Request, InferenceReceipt Receipt, byte[] Prompt, int[] Tokens, byte[] CommitmentFor);

    private async Task<Honest> GenerateAsync(string prompt = "Once upon a time", SamplingParameters? sampling = null, int maxTokens = 48, ulong seed = 5)
    {
        sampling ??= ProofFixture.Sampled();
        var request = SignedMessage.Create(_client, InferenceRequest.ForPrompt(prompt, _engine.Model.Id, _client.PeerId, sampling, seed, maxTokens, TokenAmount.ParseTokens("0.01"), 1, ProofFixture.Time().GetUtcNow().AddHours(1)));
        var builder = CommitmentBuilder.ForModel(_engine.Model, maxTokens);
        var tokens = new List<int>();
        var stop = StopReason.None;
        await foreach (var t in _engine.GenerateAsync(new GenerationRequest(_engine.Tokenize(prompt, true), sampling, seed, maxTokens), builder))
        {
            tokens.Add(t.TokenId);
            stop = t.Stop;
        }

        var receipt = Receipt(request, [.. tokens], stop, builder);
        return new Honest(request, receipt, System.Text.Encoding.UTF8.GetBytes(prompt), [.. tokens], receipt.Commitment.ToArray());
    }

    private InferenceReceipt Receipt(SignedMessage<InferenceRequest> request, int[] tokens, StopReason stop, CommitmentBuilder builder) =>
        ProofFixture.Receipt(request, _node.PeerId, _engine.Identity, tokens, stop, builder);

    private Task<VerificationResult> VerifyAsync(Honest h, InferenceReceipt? receipt = null, Ed25519KeyPair? signer = null, byte[]? prompt = null, int[]? tokens = null, FakeEngine? engine = null, ReexecutionVerifierOptions? options = null) =>
        ProofFixture.Verifier(engine ?? _engine, options).VerifyAsync(new VerificationCase(h.Request, SignedMessage.Create(signer ?? _node, receipt ?? h.Receipt), prompt ?? h.Prompt, tokens ?? h.Tokens));

    [Fact]
    public async Task Verify_HonestReceipt_Valid()
    {
        var h = await GenerateAsync();
        var result = await VerifyAsync(h);
        Assert.Equal(VerdictOutcome.Valid, result.Outcome);
        Assert.Equal(1, _engine.TeacherForceCalls);
    }

    [Fact]
    public async Task Verify_ManyHonestReceipts_NoFalsePositives()
    {
        var failures = new List<string>();
        for (ulong seed = 1; seed <= 24; seed++)
        {
            var sampling = seed % 4 == 0 ? SamplingParameters.Greedy : ProofFixture.Sampled(0.3f + (0.1f * (seed % 12)));
            var h = await GenerateAsync(seed % 2 == 0 ? "the cat sat" : "Lily and Tom", sampling, 32 + (int)(seed * 3), seed);
            var result = await VerifyAsync(h);
            if (result.Outcome != VerdictOutcome.Valid)
            {
                failures.Add($"seed {seed}: {result}");
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public async Task Verify_ReceiptSignedByAnotherKey_InconclusiveBadSignatureWithoutReexecution()
    {
        var h = await GenerateAsync();
        var result = await VerifyAsync(h, signer: _other);
        Assert.Equal((VerdictOutcome.Inconclusive, FraudReason.BadSignature), (result.Outcome, result.Reason));
        Assert.Equal(0, _engine.TeacherForceCalls);
    }

    [Fact]
    public async Task Verify_RequestNotSignedByItsClient_InconclusiveBadSignature()
    {
        var h = await GenerateAsync();
        var forged = SignedMessage.Create(_other, h.Request.Message);
        var receipt = h.Receipt with { RequestId = new RequestId(forged.Hash) };
        var result = await ProofFixture.Verifier(_engine).VerifyAsync(new VerificationCase(forged, SignedMessage.Create(_node, receipt), h.Prompt, h.Tokens));
        Assert.Equal((VerdictOutcome.Inconclusive, FraudReason.BadSignature), (result.Outcome, result.Reason));
    }

    [Fact]
    public async Task Verify_PromptBytesDifferFromRequest_Inconclusive()
    {
        var h = await GenerateAsync();
        var result = await VerifyAsync(h, prompt: "Once upon a tim"u8.ToArray());
        Assert.Equal((VerdictOutcome.Inconclusive, FraudReason.InputMismatch), (result.Outcome, result.Reason));
    }

    [Fact]
    public async Task Verify_TokensDoNotMatchSignedRoot_Inconclusive()
    {
        var h = await GenerateAsync();
        int[] tokens = [.. h.Tokens];
        tokens[0] = tokens[0] == 5 ? 6 : 5;
        var result = await VerifyAsync(h, tokens: tokens);
        Assert.Equal((VerdictOutcome.Inconclusive, FraudReason.OutputMismatch), (result.Outcome, result.Reason));
    }

    [Fact]
    public async Task Verify_ReceiptNamesAnotherModel_FraudModelMismatch()
    {
        var h = await GenerateAsync();
        var result = await VerifyAsync(h, h.Receipt with { ModelId = new ModelId(Sha256Digest.Compute("x"u8)) });
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.ModelMismatch), (result.Outcome, result.Reason));
    }

    [Fact]
    public async Task Verify_VerifierRunsAnotherModelOrEngine_Inconclusive()
    {
        var h = await GenerateAsync();
        var result = await VerifyAsync(h, engine: ProofFixture.OtherModel());
        Assert.Equal((VerdictOutcome.Inconclusive, FraudReason.ModelMismatch), (result.Outcome, result.Reason));
        var avx2 = new FakeEngine(ProofFixture.Real, identity: _engine.Identity with { CpuVariant = "avx2" });
        Assert.Equal(VerdictOutcome.Inconclusive, (await VerifyAsync(h, engine: avx2)).Outcome);
        var otherUbatch = new FakeEngine(ProofFixture.Real, identity: _engine.Identity with { Ubatch = 16 });
        Assert.Equal(VerdictOutcome.Valid, (await VerifyAsync(h, engine: otherUbatch)).Outcome);
    }

    [Fact]
    public async Task Verify_GarbageCommitment_FraudMalformed()
    {
        var h = await GenerateAsync();
        var result = await VerifyAsync(h, h.Receipt with { Commitment = new byte[] { 1, 2, 3 } });
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.MalformedCommitment), (result.Outcome, result.Reason));
    }

    [Fact]
    public async Task Verify_WeakerCommitmentParameters_FraudMalformed()
    {
        var h = await GenerateAsync();
        var weak = new CommitmentBuilder(new CommitmentParameters { TopK = 4, ChunkSize = 64 }, 64, 48);
        await _engine.TeacherForceAsync(_engine.Tokenize("Once upon a time", true), h.Tokens, weak);
        var result = await VerifyAsync(h, Receipt(h.Request, h.Tokens, h.Receipt.StopReason, weak));
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.MalformedCommitment), (result.Outcome, result.Reason));
    }

    [Fact]
    public async Task Verify_CommitmentUnderAnotherBinding_FraudActivationMismatch()
    {
        // Same tokens and activations, but the receipt's engine identity (ubatch only, still
        // compatible) differs from the one the commitment was masked under.
        var h = await GenerateAsync();
        var result = await VerifyAsync(h, h.Receipt with { Engine = h.Receipt.Engine with { Ubatch = 7 } });
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.ActivationMismatch), (result.Outcome, result.Reason));
    }

    [Fact]
    public async Task Verify_FalseEndOfSequence_FraudTermination()
    {
        var h = await GenerateAsync(maxTokens: 20);
        Assert.Equal(StopReason.MaxTokens, h.Receipt.StopReason);
        var result = await VerifyAsync(h, h.Receipt with { StopReason = StopReason.EndOfSequence });
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.TerminationMismatch), (result.Outcome, result.Reason));
        Assert.Equal(19, result.FirstFailingPosition);
        result = await VerifyAsync(h, h.Receipt with { StopReason = StopReason.StopSequence });
        Assert.Equal(FraudReason.TerminationMismatch, result.Reason);
        result = await VerifyAsync(h, h.Receipt with { StopReason = StopReason.ContextFull });
        Assert.Equal(FraudReason.TerminationMismatch, result.Reason);
        result = await VerifyAsync(h, h.Receipt with { StopReason = StopReason.None });
        Assert.Equal(FraudReason.TerminationMismatch, result.Reason);
    }

    [Fact]
    public async Task Verify_EosClaimedWhereNotSampled_FraudSampling()
    {
        var h = await GenerateAsync(maxTokens: 20);
        int[] tokens = [.. h.Tokens[..10], _engine.Model.EndOfSequenceToken];
        var builder = CommitmentBuilder.ForModel(_engine.Model, 20);
        await _engine.TeacherForceAsync(_engine.Tokenize("Once upon a time", true), tokens, builder);
        var result = await VerifyAsync(h, Receipt(h.Request, tokens, StopReason.EndOfSequence, builder), tokens: tokens);
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.SamplingMismatch, 10), (result.Outcome, result.Reason, result.FirstFailingPosition));
    }

    [Fact]
    public async Task Verify_OutputPastStopSequence_FraudTermination()
    {
        var free = await GenerateAsync("the cat", SamplingParameters.Greedy, 60);
        string text = _engine.Detokenize(free.Tokens);
        Assert.True(text.Length >= 4, text);
        string stop = text[text.Length / 2].ToString();
        var h = await GenerateAsync("the cat", SamplingParameters.Greedy with { StopSequences = [stop] }, 60);
        Assert.Equal(StopReason.StopSequence, h.Receipt.StopReason);
        Assert.Equal(VerdictOutcome.Valid, (await VerifyAsync(h)).Outcome);

        // The node keeps generating past the stop (the honest continuation of the same sequence).
        var builder = CommitmentBuilder.ForModel(_engine.Model, 60);
        await _engine.TeacherForceAsync(_engine.Tokenize("the cat", true), free.Tokens, builder);
        var result = await VerifyAsync(h, Receipt(h.Request, free.Tokens, StopReason.StopSequence, builder), tokens: free.Tokens);
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.TerminationMismatch, h.Tokens.Length - 1), (result.Outcome, result.Reason, result.FirstFailingPosition));
    }

    [Fact]
    public async Task Verify_ContextFullHonest_Valid()
    {
        var small = new FakeEngine(ProofFixture.Real, contextLength: 30);
        var verifierEngine = new FakeEngine(ProofFixture.Real, contextLength: 30);
        var sampling = ProofFixture.Sampled();
        var request = SignedMessage.Create(_client, InferenceRequest.ForPrompt("Once upon a time", small.Model.Id, _client.PeerId, sampling, 3, 64, TokenAmount.ParseTokens("0.01"), 1, ProofFixture.Time().GetUtcNow().AddHours(1)));
        var builder = CommitmentBuilder.ForModel(small.Model, 64);
        var tokens = new List<int>();
        var stop = StopReason.None;
        await foreach (var t in small.GenerateAsync(new GenerationRequest(small.Tokenize("Once upon a time", true), sampling, 3, 64), builder))
        {
            tokens.Add(t.TokenId);
            stop = t.Stop;
        }

        Assert.Equal(StopReason.ContextFull, stop);
        var receipt = Receipt(request, [.. tokens], stop, builder);
        var result = await ProofFixture.Verifier(verifierEngine).VerifyAsync(new VerificationCase(request, SignedMessage.Create(_node, receipt), "Once upon a time"u8.ToArray(), tokens));
        Assert.Equal(VerdictOutcome.Valid, result.Outcome);
    }

    [Fact]
    public async Task Verify_NoisyDecoder_ValidThanksToSlackOnlyWhenSlackAllowed()
    {
        // A node whose decode noise is 10x the honest level flips near-ties now and then; its hidden
        // states still pass the activation thresholds. This is the teacher-forced stage's slack alone
        // (no decoding replay: the verifier's engine does not reproduce this node's noise).
        var noisy = new FakeEngine(ProofFixture.Real, decodeNoise: 1e-2);
        VerificationResult? withSlack = null, without = null;
        for (ulong seed = 1; seed < 40 && (withSlack is null || without is null); seed++)
        {
            var sampling = ProofFixture.Sampled();
            var request = SignedMessage.Create(_client, InferenceRequest.ForPrompt("the cat", noisy.Model.Id, _client.PeerId, sampling, seed, 64, TokenAmount.ParseTokens("0.01"), seed, ProofFixture.Time().GetUtcNow().AddHours(1)));
            var builder = CommitmentBuilder.ForModel(noisy.Model, 64);
            var tokens = new List<int>();
            var stop = StopReason.None;
            await foreach (var t in noisy.GenerateAsync(new GenerationRequest(noisy.Tokenize("the cat", true), sampling, seed, 64), builder))
            {
                tokens.Add(t.TokenId);
                stop = t.Stop;
            }

            var vc = new VerificationCase(request, SignedMessage.Create(_node, Receipt(request, [.. tokens], stop, builder)), "the cat"u8.ToArray(), tokens);
            var strict = await ProofFixture.Verifier(_engine, ProofFixture.Options() with { DecodingReplay = DecodingReplayPolicy.Never, SamplingSlack = 0, Thresholds = CommitmentThresholds.Default with { MaxMedianRelativeError = 1, MaxTrimmedMeanRelativeError = 1 } }).VerifyAsync(vc);
            if (strict.Reason == FraudReason.SamplingMismatch)
            {
                without = strict;
                withSlack = await ProofFixture.Verifier(_engine, ProofFixture.Options() with { DecodingReplay = DecodingReplayPolicy.Never, SamplingSlack = 0.5f, MaxSlackFraction = 0.1, Thresholds = CommitmentThresholds.Default with { MaxMedianRelativeError = 1, MaxTrimmedMeanRelativeError = 1 } }).VerifyAsync(vc);
            }
        }

        Assert.NotNull(without);
        Assert.Equal(VerdictOutcome.Fraud, without!.Outcome);
        Assert.Equal(VerdictOutcome.Valid, withSlack!.Outcome);
    }

    [Fact]
    public async Task Verify_EngineFaultDuringReexecution_Inconclusive()
    {
        var h = await GenerateAsync();
        var tiny = new FakeEngine(ProofFixture.Real, contextLength: 10);
        var result = await VerifyAsync(h, engine: tiny, options: ProofFixture.Options() with { ContextLength = 4096 });
        Assert.Equal(VerdictOutcome.Inconclusive, result.Outcome);
    }

    [Fact]
    public async Task Sign_Result_VerdictOpensAndNamesReceiptAndValidator()
    {
        var h = await GenerateAsync();
        var receipt = SignedMessage.Create(_node, h.Receipt);
        var result = VerificationResult.Fraud(FraudReason.SamplingMismatch, 7, new string('x', 600));
        using var validator = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)9, 32).ToArray());
        var verdict = VerdictSigner.Sign(validator, receipt, result, ProofFixture.Time());
        var opened = SignedMessage.Open<Verdict>(verdict.Envelope.Encoded);
        Assert.Equal(validator.PeerId, opened.Signer);
        Assert.Equal(validator.PeerId, opened.Message.ValidatorId);
        Assert.Equal(_node.PeerId, opened.Message.NodeId);
        Assert.Equal(ReceiptId.FromEnvelope(receipt.Envelope.Encoded.Span), opened.Message.ReceiptId);
        Assert.Equal((VerdictOutcome.Fraud, FraudReason.SamplingMismatch, 7), (opened.Message.Outcome, opened.Message.Reason, opened.Message.FirstFailingPosition));
        Assert.True(opened.Message.Detail.Length <= 512);
    }
}

public sealed class ReexecutionVerifierPropertyTests
{
    private static readonly Lazy<Task<(VerificationCase Case, InferenceReceipt Receipt, Ed25519KeyPair Node)>> Honest = new(async () =>
    {
        var engine = ProofFixture.Honest();
        var client = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)4, 32).ToArray());
        var node = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)5, 32).ToArray());
        var sampling = ProofFixture.Sampled();
        var request = SignedMessage.Create(client, InferenceRequest.ForPrompt("Once upon a time", engine.Model.Id, client.PeerId, sampling, 8, 40, TokenAmount.ParseTokens("0.01"), 1, ProofFixture.Time().GetUtcNow().AddHours(1)));
        var builder = CommitmentBuilder.ForModel(engine.Model, 40);
        var tokens = new List<int>();
        var stop = StopReason.None;
        await foreach (var t in engine.GenerateAsync(new GenerationRequest(engine.Tokenize("Once upon a time", true), sampling, 8, 40), builder))
        {
            tokens.Add(t.TokenId);
            stop = t.Stop;
        }

        var receipt = ProofFixture.Receipt(request, node.PeerId, engine.Identity, tokens, stop, builder);
        return (new VerificationCase(request, SignedMessage.Create(node, receipt), "Once upon a time"u8.ToArray(), tokens), receipt, node);
    });

    // A commitment tolerates rounding noise by design, and one class of byte change is exactly that:
    // the low byte of a polynomial's constant term. Adding d to the constant adds d to the polynomial
    // at every index, so every committed value moves by d half-precision ulps (a relative change of
    // d·2^-11 to d·2^-10), which for small d is less than honest decode-vs-prefill noise. Such a
    // change must be judged like noise (Valid, or ActivationMismatch once d is large); every other
    // change moves the values at the verifier's indices by x^j·d for j ≥ 1, effectively at random.
    [FsCheck.Xunit.Property(MaxTest = 60)]
    public async Task<bool> Verify_AnyCommitmentMutation_CaughtWithoutExceptions(PositiveInt position, byte mask, bool truncate)
    {
        var (honestCase, receipt, node) = await Honest.Value;
        byte[] commitment = receipt.Commitment.ToArray();
        int at = position.Get % commitment.Length;
        if (truncate)
        {
            commitment = commitment[..at];
        }
        else
        {
            commitment[at] ^= mask == 0 ? (byte)1 : mask;
        }

        var result = await VerifyMutatedAsync(honestCase, receipt, node, commitment);
        bool caught = result.Outcome == VerdictOutcome.Fraud && result.Reason is FraudReason.MalformedCommitment or FraudReason.ActivationMismatch;
        return caught || (!truncate && IsConstantTermLowByte(receipt.Commitment.Span, at) && result.Outcome == VerdictOutcome.Valid);
    }

    [Theory]
    [InlineData(1, VerdictOutcome.Valid)]
    [InlineData(2, VerdictOutcome.Valid)]
    [InlineData(64, VerdictOutcome.Fraud)]
    [InlineData(200, VerdictOutcome.Fraud)]
    public async Task Verify_PromptConstantTermShifted_JudgedAsNoiseOnlyWhenSmall(int shift, VerdictOutcome expected)
    {
        var (honestCase, receipt, node) = await Honest.Value;
        byte[] commitment = receipt.Commitment.ToArray();
        int at = ActivationCommitment.HeaderLength(receipt.OutputTokenCount);
        ushort constant = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(commitment.AsSpan(at));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(commitment.AsSpan(at), (ushort)((constant + shift) % PrimeField.P));
        var result = await VerifyMutatedAsync(honestCase, receipt, node, commitment);
        Assert.Equal(expected, result.Outcome);
        if (expected == VerdictOutcome.Fraud)
        {
            Assert.Equal((FraudReason.ActivationMismatch, 0), (result.Reason, result.FirstFailingPosition));
        }
    }

    private static Task<VerificationResult> VerifyMutatedAsync(VerificationCase honestCase, InferenceReceipt receipt, Ed25519KeyPair node, byte[] commitment)
    {
        var mutated = honestCase with { Receipt = SignedMessage.Create(node, receipt with { Commitment = commitment }) };
        return ProofFixture.Verifier(ProofFixture.Honest()).VerifyAsync(mutated);
    }

    private static bool IsConstantTermLowByte(ReadOnlySpan<byte> encoded, int position)
    {
        var commitment = ActivationCommitment.Decode(encoded);
        int offset = ActivationCommitment.HeaderLength(commitment.OutputTokenCount);
        for (int polynomial = 0; polynomial <= commitment.ChunkCount; polynomial++)
        {
            if (position == offset + 1)
            {
                return true;
            }

            offset += 2 * commitment.Polynomial(polynomial).Length;
        }

        return false;
    }

    [Fact]
    public async Task Verify_UnmutatedCase_Valid()
    {
        var (honestCase, _, _) = await Honest.Value;
        Assert.Equal(VerdictOutcome.Valid, (await ProofFixture.Verifier(ProofFixture.Honest()).VerifyAsync(honestCase)).Outcome);
    }
}
