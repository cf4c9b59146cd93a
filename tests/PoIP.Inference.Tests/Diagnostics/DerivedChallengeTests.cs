using PoIP.Inference.Diagnostics;
using PoIP.Inference.Gguf;
using PoIP.Inference.Llama;
using PoIP.Inference.Tests.Gguf;

namespace PoIP.Inference.Tests.Diagnostics;

/// <summary>Known-answer challenges for a model other than stories260K, derived by running the challenger's engine.</summary>
public sealed class DerivedChallengeTests
{
    [Fact]
    public async Task DeriveChallengesAsync_SynthesizedModel_ChallengesForItsModelAndIdentityThatAnotherEngineReproduces()
    {
        using var dir = new TempDirectory();
        string path = dir.File("other.gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 64, Layers = 2, Heads = 4, KvHeads = 2, FeedForward = 64, Vocabulary = 384, Seed = 11 }, path);
        var options = new LlamaEngineOptions { ModelPath = path, Threads = 1, ContextSize = 256, MaxOutputTokens = 64, MaxPromptTokens = 64 };
        await using var challenger = await LlamaInferenceEngine.LoadAsync(options);
        await using var node = await LlamaInferenceEngine.LoadAsync(options with { Threads = 2 }); // another process's engine, same identity

        var challenges = await KnownAnswerTest.DeriveChallengesAsync(challenger, maxTokens: 12);
        var again = await KnownAnswerTest.DeriveChallengesAsync(node, maxTokens: 12);

        Assert.NotEqual(KnownAnswerTest.ModelSha256, challenger.Model.Id.ToString());
        Assert.Equal(2, challenges.Count);
        Assert.All(challenges, c =>
        {
            Assert.Equal(challenger.Model.Id, c.Model);
            Assert.Equal(challenger.Identity, c.Engine);
            Assert.NotEmpty(c.ExpectedTokens);
        });
        Assert.True(KnownAnswerTest.SameIdentity(challenger.Identity, node.Identity));
        Assert.Equal(challenges.Select(c => c.ExpectedTokens), again.Select(c => c.ExpectedTokens)); // an honest engine of that identity answers them exactly
        Assert.NotEqual(challenges[0].ExpectedTokens, challenges[1].ExpectedTokens);
        Assert.False(KnownAnswerTest.SameIdentity(challenger.Identity, challenger.Identity with { FlashAttention = !challenger.Identity.FlashAttention }));
    }
}
