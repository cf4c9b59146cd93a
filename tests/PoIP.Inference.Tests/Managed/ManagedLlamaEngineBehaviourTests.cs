using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;
using PoIP.Inference.Gguf;
using PoIP.Inference.Managed;
using PoIP.Inference.Tests.Gguf;

namespace PoIP.Inference.Tests.Managed;

public sealed class ManagedLlamaEngineBehaviourTests
{
    [Fact]
    public async Task GenerateAsync_Stories260K_WritesTheKnownStory()
    {
        await using var engine = await ManagedLlamaEngine.LoadAsync(Stories.Path);
        IReadOnlyList<int> prompt = engine.Tokenize("Once upon a time", true);
        var tokens = new List<GeneratedToken>();
        await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(prompt, SamplingParameters.Greedy, 0, 40)))
        {
            tokens.Add(token);
        }

        string text = string.Concat(tokens.Select(t => t.Piece));
        Assert.StartsWith(", there was a little girl named Lily. She loved to play outside in the park.", text, StringComparison.Ordinal);
        Assert.Equal(StopReason.MaxTokens, tokens[^1].Stop);
    }

    [Fact]
    public async Task GenerateAsync_ModelThatPicksEos_YieldsEosAsLastTokenWithEndOfSequence()
    {
        using var dir = new TempDirectory();
        string path = WriteEosModel(dir);
        await using var engine = await ManagedLlamaEngine.LoadAsync(path);
        Assert.Equal(0, engine.Model.EndOfSequenceToken);
        var tokens = new List<GeneratedToken>();
        await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(engine.Tokenize("hello", true), SamplingParameters.Greedy, 0, 10)))
        {
            tokens.Add(token);
        }

        GeneratedToken only = Assert.Single(tokens);
        Assert.Equal(0, only.TokenId);
        Assert.Equal(StopReason.EndOfSequence, only.Stop);
    }

    [Fact]
    public async Task GenerateAsync_ContextFull_StopsWithContextFull()
    {
        await using var engine = await ManagedLlamaEngine.LoadAsync(Stories.Path, new ManagedLlamaEngineOptions { ContextLength = 12 });
        IReadOnlyList<int> prompt = engine.Tokenize("Once upon a time", true);
        var tokens = new List<GeneratedToken>();
        await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(prompt, SamplingParameters.Greedy, 0, 100)))
        {
            tokens.Add(token);
        }

        Assert.Equal(12 - prompt.Count + 1, tokens.Count);
        Assert.Equal(StopReason.ContextFull, tokens[^1].Stop);
        await Assert.ThrowsAsync<EngineException>(() => engine.TeacherForceAsync(prompt, new int[14 - prompt.Count], new CaptureObserver()));
    }

    [Fact]
    public async Task TeacherForceAsync_Stories260K_BitIdenticalToDecoding()
    {
        await using var engine = await ManagedLlamaEngine.LoadAsync(Stories.Path);
        IReadOnlyList<int> prompt = engine.Tokenize("Tom and his dog", true);
        var decoded = new CaptureObserver();
        var tokens = new List<int>();
        await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(prompt, SamplingParameters.Greedy, 0, 32), decoded))
        {
            tokens.Add(token.TokenId);
        }

        var forced = new CaptureObserver();
        await engine.TeacherForceAsync(prompt, tokens, forced);
        Assert.Equal(tokens, forced.Tokens);
        for (int i = 0; i < tokens.Count; i++)
        {
            Assert.Equal(decoded.Hidden[i], forced.Hidden[i]);
            Assert.Equal(decoded.Logits[i], forced.Logits[i]);
        }
    }

    [Fact]
    public async Task LoadAsync_UnsupportedTensorType_ThrowsEngineException()
    {
        using var dir = new TempDirectory();
        string path = dir.File("q4.gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 256, Layers = 1, Heads = 4, FeedForward = 256, Vocabulary = 300, Type = SynthesisType.Q4_K_M }, path);
        var error = await Assert.ThrowsAsync<EngineException>(() => ManagedLlamaEngine.LoadAsync(path));
        Assert.Equal("engine.unsupported_model", error.Code);
    }

    [Fact]
    public async Task GenerateAsync_Q8Model_MatchesLlamaCppTokensAndHiddenStates()
    {
        using var dir = new TempDirectory();
        string path = dir.File("q8.gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 128, Layers = 2, Heads = 4, KvHeads = 2, FeedForward = 256, Vocabulary = 512, Type = SynthesisType.Q8_0, Seed = 9 }, path);
        await using var engine = await ManagedLlamaEngine.LoadAsync(path);
        using var reference = new LlamaCppReference(path, 128);
        var errors = new List<double>();
        int agreeing = 0;
        int total = 0;
        foreach (string text in new[] { "Once upon a time", "the dog and the cat", "Hello, world! 42" })
        {
            IReadOnlyList<int> prompt = engine.Tokenize(text, true);
            var (expected, expectedHidden) = reference.GreedyDecode(prompt, 16, engine.Model.EndOfSequenceToken);
            var observer = new CaptureObserver();
            var actual = new List<int>();
            await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(prompt, SamplingParameters.Greedy, 0, 16), observer))
            {
                actual.Add(token.TokenId);
            }

            int common = actual.Zip(expected).TakeWhile(p => p.First == p.Second).Count();
            agreeing += common;
            total += expected.Count;
            for (int i = 0; i < Math.Min(common + 1, actual.Count); i++)
            {
                errors.Add(Numerics.RelativeL2(observer.Hidden[i], expectedHidden[i]));
            }
        }

        errors.Sort();
        Console.WriteLine($"synth Q8_0 managed vs llama.cpp: {agreeing}/{total} greedy tokens agree before the first divergence; hidden relative L2 median {errors[errors.Count / 2]:E2}, max {errors[^1]:E2}");
        Assert.Equal(total, agreeing);
        Assert.True(errors[errors.Count / 2] < 1e-5, $"median {errors[errors.Count / 2]}");
        Assert.True(errors[^1] < 1e-2, $"max {errors[^1]}");
    }

    private static string WriteEosModel(TempDirectory dir)
    {
        string source = dir.File("source.gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 32, Layers = 1, Heads = 2, FeedForward = 32, Vocabulary = 300 }, source);
        string path = dir.File("eos.gguf");
        using (GgufFile file = GgufFile.Open(source))
        {
            var writer = new GgufWriter();
            foreach (var (key, value) in file.Metadata)
            {
                writer.Add(key, key == "tokenizer.ggml.eos_token_id" ? new GgufMetadataValue(GgufValueType.UInt32, 0u) : value);
            }

            foreach (GgufTensorInfo tensor in file.Tensors)
            {
                byte[] data = tensor.Name == "output.weight" ? new byte[tensor.ByteSize] : file.GetTensorBytes(tensor).ToArray();
                writer.AddTensor(tensor.Name, [.. tensor.Dimensions], tensor.Type, data); // all logits 0: argmax is token 0
            }

            writer.WriteFile(path);
        }

        return path;
    }
}

public sealed class ManagedLlamaEngineLoadPropertyTests
{
    private static readonly Lazy<byte[]> Image = new(() =>
    {
        using var dir = new TempDirectory();
        string path = dir.File("m.gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 16, Layers = 1, Heads = 2, FeedForward = 16, Vocabulary = 270, ContextLength = 32 }, path);
        return File.ReadAllBytes(path);
    });

    [FsCheck.Xunit.Property(MaxTest = 150)]
    public void LoadAsync_MutatedModel_OnlyTypedErrors(FsCheck.NonNegativeInt position, byte value, FsCheck.NonNegativeInt flips)
    {
        byte[] image = (byte[])Image.Value.Clone();
        int header = Math.Min(image.Length, 6000);
        var random = new Random(position.Get);
        image[position.Get % header] = value;
        for (int i = 0; i < flips.Get % 4; i++)
        {
            image[random.Next(header)] ^= (byte)(1 << random.Next(8));
        }

        using var dir = new TempDirectory();
        string path = dir.File("mutated.gguf");
        File.WriteAllBytes(path, image);
        try
        {
            ManagedLlamaEngine engine = ManagedLlamaEngine.LoadAsync(path).GetAwaiter().GetResult();
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (PoIPDecodeException)
        {
        }
        catch (EngineException)
        {
        }
    }
}
