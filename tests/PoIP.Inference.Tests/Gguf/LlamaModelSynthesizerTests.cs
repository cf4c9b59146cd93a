using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Gguf;
using PoIP.Inference.Managed;
using PoIP.Inference.Tests.Managed;

namespace PoIP.Inference.Tests.Gguf;

public sealed class LlamaModelSynthesizerTests
{
    [Theory]
    [InlineData(SynthesisType.F32, 64, 64, GgufTensorType.F32)]
    [InlineData(SynthesisType.F16, 64, 64, GgufTensorType.F16)]
    [InlineData(SynthesisType.Q8_0, 64, 96, GgufTensorType.Q8_0)]
    [InlineData(SynthesisType.Q4_K_M, 256, 256, GgufTensorType.Q4_K)]
    public void Write_EachType_LoadsAndGeneratesInLlamaCpp(SynthesisType type, int dim, int ff, GgufTensorType expectedQueryType)
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = dim, Layers = 2, Heads = 4, KvHeads = 2, FeedForward = ff, Vocabulary = 384, Type = type, Seed = 7 }, path);

        using (GgufFile file = GgufFile.Open(path))
        {
            Assert.Equal(expectedQueryType, file.GetTensor("blk.0.attn_q.weight").Type);
            Assert.Equal(GgufTensorType.F32, file.GetTensor("blk.0.attn_norm.weight").Type);
            Assert.Equal(dim, file.GetInteger("llama.embedding_length"));
            Assert.Equal(2, file.GetInteger("llama.attention.head_count_kv"));
        }

        using var reference = new LlamaCppReference(path, 128);
        Assert.Equal(384, reference.VocabularySize);
        Assert.Equal(dim, reference.EmbeddingLength);
        int[] prompt = reference.Tokenize("Once upon a time, the little dog", addBos: true);
        var (tokens, hidden) = reference.GreedyDecode(prompt, 16, eos: 2);
        Assert.NotEmpty(tokens);
        Assert.All(hidden, h => Assert.All(h, v => Assert.True(float.IsFinite(v))));
        Assert.True(hidden[0].Select(v => (double)v * v).Sum() > 0);
    }

    [Fact]
    public void Write_SameOptions_ByteIdenticalFile()
    {
        using var dir = new TempDirectory();
        var options = new SynthesisOptions { Dimension = 32, Layers = 1, Heads = 2, FeedForward = 32, Vocabulary = 300, Seed = 3 };
        LlamaModelSynthesizer.Write(options, dir.File("a.gguf"));
        LlamaModelSynthesizer.Write(options, dir.File("b.gguf"));
        LlamaModelSynthesizer.Write(options with { Seed = 4 }, dir.File("c.gguf"));
        Assert.Equal(File.ReadAllBytes(dir.File("a.gguf")), File.ReadAllBytes(dir.File("b.gguf")));
        Assert.NotEqual(File.ReadAllBytes(dir.File("a.gguf")), File.ReadAllBytes(dir.File("c.gguf")));
    }

    [Fact]
    public void Write_Q4KWithRowsNotMultipleOf256_Throws()
    {
        using var dir = new TempDirectory();
        Assert.Throws<ArgumentException>(() => LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 64, FeedForward = 64, Type = SynthesisType.Q4_K_M }, dir.File("x.gguf")));
    }

    [Theory]
    [InlineData(SynthesisType.F32, 2e-5, 2e-4)]
    [InlineData(SynthesisType.F16, 5e-4, 1e-3)]
    public async Task ManagedEngine_SynthesizedGqaModel_MatchesLlamaCpp(SynthesisType type, double medianTolerance, double maxTolerance)
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 128, Layers = 3, Heads = 8, KvHeads = 2, FeedForward = 256, Vocabulary = 512, Type = type, Seed = 11 }, path);
        await using var engine = await ManagedLlamaEngine.LoadAsync(path, new ManagedLlamaEngineOptions { KvCacheType = "f16" });
        using var reference = new LlamaCppReference(path, 128);
        var errors = new List<double>();
        foreach (string text in new[] { "Once upon a time", "the dog and the cat", "Hello, world! 42" })
        {
            IReadOnlyList<int> prompt = engine.Tokenize(text, true);
            Assert.Equal(reference.Tokenize(text, true), prompt);
            var (expected, expectedHidden) = reference.GreedyDecode(prompt, 24, engine.Model.EndOfSequenceToken);
            var observer = new CaptureObserver();
            var actual = new List<int>();
            await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(prompt, SamplingParameters.Greedy, 0, 24), observer))
            {
                actual.Add(token.TokenId);
            }

            Assert.Equal(expected, actual);
            for (int i = 0; i < actual.Count; i++)
            {
                errors.Add(Numerics.RelativeL2(observer.Hidden[i], expectedHidden[i]));
            }
        }

        errors.Sort();
        Console.WriteLine($"synth {type} managed vs llama.cpp (kv f16 both) hidden relative L2: median {errors[errors.Count / 2]:E2}, max {errors[^1]:E2} over {errors.Count}");
        Assert.True(errors[errors.Count / 2] < medianTolerance);
        Assert.True(errors[^1] < maxTolerance);
    }
}
