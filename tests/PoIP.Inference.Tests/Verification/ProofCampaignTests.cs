using PoIP.Inference.Gguf;
using PoIP.Inference.Llama;
using PoIP.Inference.Tests.Llama;
using PoIP.Testing.Verification;

namespace PoIP.Inference.Tests.Verification;

/// <summary>
/// A bounded slice of the false-positive campaign (the long run is <c>poip proofs campaign</c>,
/// docs/proofs.md §7b) on real llama.cpp engines, plus the campaign's definition rules.
/// </summary>
public sealed class ProofCampaignTests
{
    [Fact]
    public void Configurations_EveryAxisOfTheStandard_Covered()
    {
        var all = ProofCampaign.Configurations(["avx512", "avx2"]);
        Assert.Equal(all.Count, all.Select(c => c.Name).Distinct().Count());
        Assert.Equal(["avx2", "avx512"], all.Select(c => c.CpuVariant).Distinct().Order());
        Assert.Contains(all, c => c.Managed);
        Assert.Equal([KvCacheType.F16, KvCacheType.F32, KvCacheType.Q80], all.Select(c => c.KvCacheType).Distinct().Order());
        Assert.Contains(all, c => c.FlashAttention);
        Assert.True(all.Select(c => c.Threads).Distinct().Count() >= 2);
        Assert.True(all.Select(c => c.MicroBatchSize).Distinct().Count() >= 4);
        Assert.Equal([SynthesisType.F32, SynthesisType.F16, SynthesisType.Q8_0, SynthesisType.Q4_K_M], all.Select(c => c.WeightType).Distinct());
    }

    [Fact]
    public void Case_SameIndex_SameCaseAndEverySamplerAndPromptKindAppear()
    {
        var cases = Enumerable.Range(0, 64).Select(i => ProofCampaign.Case(3, i)).ToArray();
        Assert.Equal(cases, Enumerable.Range(0, 64).Select(i => ProofCampaign.Case(3, i)));
        Assert.Contains(cases, c => c.Sampling.IsGreedy);
        Assert.Contains(cases, c => c.Sampling.TopK > 0 && c.Sampling.TopP < 1 && c.Sampling.MinP > 0);
        Assert.Contains(cases, c => c.Sampling.RepetitionPenalty > 1);
        Assert.Contains(cases, c => c.Sampling.StopSequences.Count > 0);
        Assert.Contains(cases, c => c.Prompt.Length > 80);
        Assert.Contains(cases, c => c.Prompt.Length < 40);
        Assert.All(cases, c => Assert.InRange(c.MaxTokens, 8, ProofCampaign.MaxOutputTokens));
        Assert.NotEqual(ProofCampaign.Case(3, 5).Seed, ProofCampaign.Case(4, 5).Seed);
    }

    [Fact]
    public void Definition_OtherConfigurations_Differs()
    {
        Assert.Equal(ProofCampaign.Definition(ProofCampaign.Configurations(["avx2"])), ProofCampaign.Definition(ProofCampaign.Configurations(["avx2"])));
        Assert.NotEqual(ProofCampaign.Definition(ProofCampaign.Configurations(["avx2"])), ProofCampaign.Definition(ProofCampaign.Configurations(["avx512", "avx2"])));
    }

    [Theory]
    [InlineData("stories260K llama t2 ub512 kv=f16 fa=off")]
    [InlineData("stories260K llama t1 ub512 kv=f32 fa=off")]
    [InlineData("stories260K llama t2 ub64 kv=f16 fa=on")]
    [InlineData("stories260K managed")]
    public async Task RunBatchAsync_HonestStories260KSlice_NoFalsePositive(string configurationPrefix)
    {
        string variant = await LoadedVariantAsync();
        var configurations = ProofCampaign.Configurations([variant]);
        int index = configurations.Select((c, i) => (c, i)).Single(p => p.c.Name == configurationPrefix + " " + variant).i;
        var batch = await ProofCampaign.RunBatchAsync(configurations[index], index, StoriesModel.Path, first: 0, count: 4, new FixedTime());
        Assert.Equal(4, batch.Receipts);
        Assert.True(batch.FalsePositives == 0 && batch.Inconclusive == 0, string.Join("\n", batch.Failures));

        var file = ProofCampaignFile.Create(ProofCampaign.Definition(configurations), configurations.Select(c => c.Name));
        file.Add(index, batch);
        Assert.Equal(ClopperPearson.UpperBound(0, 4), ProofCampaignFile.Parse(file.Serialize(), ProofCampaign.Definition(configurations)).UpperBound);
    }

    [Fact]
    public async Task RunBatchAsync_ManagedReceiptWhoseCommitmentReplaysBitForBit_NoFalsePositive()
    {
        // Regression (campaign, session 4): a managed-engine receipt on the synthesized F16 model whose 60
        // half-precision values all matched llama.cpp's replay was judged without slack as if the replay were
        // bit-exact, and a near-tie at position 11 made it "fraud". Strictness now comes from the identities only.
        var (index, receipt) = Receipt("synth-f16 managed avx512", 18091036856436783182UL);
        Assert.Equal("There was a big house", ProofCampaign.Case(index, receipt).Prompt);
        await AssertNoFalsePositiveAsync(index, receipt, SynthesisType.F16, new ProofMatrixShape());
    }

    [Fact]
    public async Task RunBatchAsync_ManagedReceiptWithoutSamplerCutOffs_NoFalsePositive()
    {
        // Regression (campaign, session 4, finding 3): receipt 326 of the managed engine on the synthesized F16
        // model, T 0.7 with no cut-off and a repetition penalty over 16 tokens, was judged "fraud"
        // (SamplingMismatch at 30 after the inexact replay had used its slack budget).
        var (index, receipt) = Receipt("synth-f16 managed avx512", 4628564788135440341UL);
        Assert.Equal(326, receipt);
        await AssertNoFalsePositiveAsync(index, receipt, SynthesisType.F16, new ProofMatrixShape());
    }

    [Fact]
    public async Task RunBatchAsync_StopSequenceWithLeadingSpaceAtTheStart_NoFalsePositive()
    {
        // Regression (campaign, session 4): on the flat model the output's first non-empty piece was " ther";
        // the engine matched the stop " the" in its pieces and stopped, while the verifier's detokenized text
        // ("ther": Detokenize drops that leading space) has no " the": TerminationMismatch on an honest node.
        // Engines now match stops in the detokenized text too.
        var (index, receipt) = Receipt("synth-flat-q4_k_m llama t2 ub512 kv=f16 fa=off avx512", 2408028141088971887UL);
        Assert.Contains(" the", ProofCampaign.Case(index, receipt).Sampling.StopSequences);
        await AssertNoFalsePositiveAsync(index, receipt, SynthesisType.Q4_K_M, RealProofMatrix.FlatShape);
    }

    // The configuration named (of the two-variant list) and the campaign receipt whose case has the seed.
    private static (int Index, long Receipt) Receipt(string configuration, ulong seed)
    {
        var all = ProofCampaign.Configurations(["avx512", "avx2"]);
        int index = all.Select((c, i) => (c, i)).Single(p => p.c.Name == configuration).i;
        return (index, Enumerable.Range(0, 5000).First(i => ProofCampaign.Case(index, i).Seed == seed));
    }

    // Replays that one campaign receipt on freshly synthesized models, in this process's CPU variant.
    private static async Task AssertNoFalsePositiveAsync(int index, long receipt, SynthesisType type, ProofMatrixShape shape)
    {
        string directory = Directory.CreateTempSubdirectory("poip-campaign-reg-").FullName;
        try
        {
            var set = RealProofMatrix.SynthesizeModelSet(directory, type, shape);
            var configuration = ProofCampaign.Configurations(["avx512", "avx2"])[index] with { CpuVariant = await LoadedVariantAsync() };
            var batch = await ProofCampaign.RunBatchAsync(configuration, index, set.ClaimedModel, receipt, count: 1, new FixedTime());
            Assert.True(batch.Receipts == 1 && batch.FalsePositives == 0, string.Join("\n", batch.Failures));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // The variant llama.cpp runs in this test process (process-wide; whatever the first engine loaded).
    private static async Task<string> LoadedVariantAsync()
    {
        await using var engine = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options());
        return engine.Identity.CpuVariant;
    }
}
