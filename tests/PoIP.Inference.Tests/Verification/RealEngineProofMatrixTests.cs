using PoIP.Inference.Gguf;
using PoIP.Inference.Llama;
using PoIP.Inference.Tests.Llama;
using PoIP.Inference.Verification;
using PoIP.Testing.Verification;

namespace PoIP.Inference.Tests.Verification;

/// <summary>
/// The reduced detection matrix on real llama.cpp engines (the full one is <c>poip proofs matrix</c>,
/// docs/proofs.md): stories260K, a synthesized F16 model with its Q4_K_M copy and a
/// synthesized Q8_0 model with its Q4_K_M copy, each against another model and a small cheap model;
/// honest receipts from llama.cpp (standard and n_ubatch 7) and from the managed engine.
/// Every attack must be caught and every honest receipt must pass.
/// </summary>
public sealed class RealEngineProofMatrixTests(Xunit.Abstractions.ITestOutputHelper output, RealEngineProofMatrixTests.Models models) : IClassFixture<RealEngineProofMatrixTests.Models>
{
    private readonly Models _models = models;

    [Fact]
    public async Task Run_Stories260K_AllAttacksCaughtNoFalsePositive()
    {
        // No cheaper quantisation or KV cache for stories260K: its F16 copy is not separable from honest F32,
        // and its head dimension rules out a Q8_0 cache (docs/proofs.md). No case of this slice stops at a stop sequence.
        var report = await RunAsync(_models.Stories, ProofMatrixGenerator.Standard, RealProofMatrix.Cases(4, first: 0, maxTokens: 40));
        ProofAttack[] absent = [ProofAttack.CheaperQuantisation, ProofAttack.AdjacentQuantisation, ProofAttack.KvCacheChanged, ProofAttack.StopSequenceIgnored];
        AssertClean(report, expectApplicable: [.. Enum.GetValues<ProofAttack>().Where(a => !absent.Contains(a))]);
    }

    [Fact]
    public async Task Run_SynthesizedF16_AllAttacksCaughtNoFalsePositive()
    {
        // F16 served as Q8_0 (adjacent) and as Q4_K_M (cheaper), a Q8_0 KV cache; no case of this slice stops at a stop sequence.
        var report = await RunAsync(_models.F16, ProofMatrixGenerator.Standard, RealProofMatrix.Cases(4, first: 100, maxTokens: 40));
        AssertClean(report, expectApplicable: [.. Enum.GetValues<ProofAttack>().Where(a => a != ProofAttack.StopSequenceIgnored)]);
    }

    [Fact]
    public async Task Run_SynthesizedQ8_0ServedAsQ4_K_M_CaughtNoFalsePositive()
    {
        var report = await RunAsync(_models.Q8, ProofMatrixGenerator.Standard, RealProofMatrix.Cases(3, first: 200, maxTokens: 40), [ProofAttack.CheaperQuantisation, ProofAttack.OtherModel, ProofAttack.CheapModelDecode]);
        AssertClean(report, expectApplicable: [ProofAttack.CheaperQuantisation, ProofAttack.OtherModel, ProofAttack.CheapModelDecode]);
    }

    [Fact]
    public async Task Run_FlatQuantisedModel_HonestReceiptsValidAttacksCaught()
    {
        // A seeded Q4_K_M model (512 wide, 8 layers) with a 32,000-token vocabulary: nearly flat logits, so
        // the prefill's rounding moves the seeded draw often (the honest 250M Q4_K_M false positive);
        // the decoding replay must settle every such dispute for the node, and still catch the attacks.
        ProofAttack[] attacks = [ProofAttack.OtherModel, ProofAttack.CheapModelDecode, ProofAttack.OutputChangedEnd, ProofAttack.OutputChangedMiddle, ProofAttack.OtherSeed, ProofAttack.TruncatedOutput];
        var report = await RunAsync(_models.Flat, ProofMatrixGenerator.Standard, RealProofMatrix.Cases(6, first: 400, maxTokens: 40), attacks);
        AssertClean(report, expectApplicable: attacks);
        output.WriteLine($"honest receipts settled by a decoding replay: {report.Honest.Replayed} of {report.Honest.Cases}");
        Assert.True(report.Honest.Replayed > 0, "no honest receipt was disputed: the model no longer exercises the replay (5 of 6 were, measured on avx512).");
    }

    [Fact]
    public async Task Run_FlatQuantisedModelExactPrefill_NoReplayNoFalsePositiveAttacksCaught()
    {
        // The same flat model served in the configuration whose prefill equals decoding bit for bit:
        // every honest receipt is settled by the prefill alone (no replay, no slack) and every attack is still caught.
        ProofAttack[] attacks = [ProofAttack.OtherModel, ProofAttack.CheapModelDecode, ProofAttack.OutputChangedEnd, ProofAttack.OutputChangedMiddle, ProofAttack.OtherSeed, ProofAttack.TruncatedOutput, ProofAttack.KvCacheChanged];
        var generator = new ProofMatrixGenerator("llama t1 ub32 exact", false, 1, 32) { ExactPrefill = true };
        var report = await RunAsync(_models.Flat, generator, RealProofMatrix.Cases(6, first: 400, maxTokens: 40), attacks);
        AssertClean(report, expectApplicable: attacks);
        Assert.Equal(0, report.Honest.Replayed);
    }

    [Theory]
    [InlineData(false, 1, 7)]
    [InlineData(true, 0, 1)]
    public async Task Run_OtherHonestGenerators_NoFalsePositive(bool managed, int threads, int ubatch)
    {
        var generator = new ProofMatrixGenerator(managed ? "managed" : "llama", managed, threads, ubatch);
        var report = await RunAsync(_models.F16, generator, RealProofMatrix.Cases(3, first: 300, maxTokens: 40), [ProofAttack.OutputChangedMiddle]);
        AssertClean(report, expectApplicable: [ProofAttack.OutputChangedMiddle]);
        Assert.Equal(3, report.Honest.Missed);
    }

    private async Task<ProofMatrixReport> RunAsync(ProofMatrixModelSet set, ProofMatrixGenerator generator, IReadOnlyList<ProofMatrixCase> cases, IReadOnlyCollection<ProofAttack>? attacks = null)
    {
        var run = await RealProofMatrix.RunAsync(set, generator, cases, attacks ?? Enum.GetValues<ProofAttack>(), LlamaCpuVariant.Auto, new FixedTime());
        output.WriteLine($"{set.Name} / {generator.Name} / {run.CpuVariant}");
        output.WriteLine(run.Report.ToString());
        return run.Report;
    }

    private static void AssertClean(ProofMatrixReport report, IReadOnlyCollection<ProofAttack> expectApplicable)
    {
        string details = report + string.Join("\n", report.Failures);
        Assert.True(report.Honest.Cases > 0, details);
        Assert.True(report.Honest.Caught == 0, "false positives: " + details);
        foreach (var row in report.Attacks)
        {
            Assert.True(row.Missed == 0, $"{row.Attack} missed: " + details);
        }

        foreach (var attack in expectApplicable)
        {
            Assert.True(report[attack].Cases > 0, $"{attack} never applied: " + details);
        }
    }

    /// <summary>The model files, synthesized once per test class into a temporary folder.</summary>
    public sealed class Models : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("poip-matrix-").FullName;

        public Models()
        {
            var shape = new ProofMatrixShape();
            Stories = RealProofMatrix.Stories260KSet(StoriesModel.Path, _directory);
            F16 = RealProofMatrix.SynthesizeModelSet(_directory, SynthesisType.F16, shape);
            Q8 = RealProofMatrix.SynthesizeModelSet(_directory, SynthesisType.Q8_0, shape);
            Flat = RealProofMatrix.SynthesizeModelSet(_directory, SynthesisType.Q4_K_M, RealProofMatrix.FlatShape);
        }

        public ProofMatrixModelSet Stories { get; }

        public ProofMatrixModelSet F16 { get; }

        public ProofMatrixModelSet Q8 { get; }

        public ProofMatrixModelSet Flat { get; }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}
