using System.Text;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;

namespace PoIP.Inference.Tests.Llama;

public sealed class EngineLoadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-engine-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Load_MissingFile_ModelNotFound()
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = Path.Combine(_directory, "absent.gguf") }));
        Assert.Equal(EngineErrorCodes.ModelNotFound, ex.Code);
        Assert.Contains("absent.gguf", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_NotGguf_ModelCorrupt()
    {
        string path = Path.Combine(_directory, "random.gguf");
        await File.WriteAllBytesAsync(path, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray());
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = path }));
        Assert.Equal(EngineErrorCodes.ModelCorrupt, ex.Code);
        Assert.Contains("GGUF magic", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_TruncatedHeader_ModelCorrupt()
    {
        byte[] model = await File.ReadAllBytesAsync(StoriesModel.Path);
        string path = Path.Combine(_directory, "header.gguf");
        await File.WriteAllBytesAsync(path, model[..100]);
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = path }));
        Assert.Equal(EngineErrorCodes.ModelCorrupt, ex.Code);
    }

    [Fact]
    public async Task Load_TruncatedGguf_ModelLoadFailedWithLlamaReason()
    {
        byte[] model = await File.ReadAllBytesAsync(StoriesModel.Path);
        string path = Path.Combine(_directory, "truncated.gguf");
        await File.WriteAllBytesAsync(path, model[..(model.Length / 2)]);
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = path }));
        Assert.Equal(EngineErrorCodes.ModelLoadFailed, ex.Code);
        Assert.Contains("truncated.gguf", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_UnknownArchitecture_UnsupportedArchitectureNamingIt()
    {
        byte[] model = await File.ReadAllBytesAsync(StoriesModel.Path);
        byte[] key = Encoding.ASCII.GetBytes("general.architecture");
        int at = model.AsSpan().IndexOf(key);
        Assert.True(at > 0);

        // key, type (u32 = 8, string), length (u64 = 5), "llama" → "zorba".
        int value = at + key.Length + 4 + 8;
        Assert.Equal("llama", Encoding.ASCII.GetString(model, value, 5));
        Encoding.ASCII.GetBytes("zorba").CopyTo(model, value);
        string path = Path.Combine(_directory, "zorba.gguf");
        await File.WriteAllBytesAsync(path, model);
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = path }));
        Assert.Equal(EngineErrorCodes.UnsupportedArchitecture, ex.Code);
        Assert.Contains("zorba", ex.Message, StringComparison.Ordinal);

        // Allowed by the options, llama.cpp itself refuses it, and the error carries llama.cpp's reason.
        ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = path, AllowedArchitectures = ["zorba"] }));
        Assert.Equal(EngineErrorCodes.ModelLoadFailed, ex.Code);
        Assert.Contains("zorba", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_ArchitectureNotAllowed_UnsupportedArchitecture()
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(StoriesModel.Options() with { AllowedArchitectures = ["qwen2"] }));
        Assert.Equal(EngineErrorCodes.UnsupportedArchitecture, ex.Code);
        Assert.Contains("'llama'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_WrongExpectedHash_ModelHashMismatch()
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(StoriesModel.Options() with { ExpectedModelSha256 = new string('0', 64) }));
        Assert.Equal(EngineErrorCodes.ModelHashMismatch, ex.Code);
    }

    [Theory]
    [InlineData(-1, 256, 64, 100, 100, 1)]
    [InlineData(2, 8, 64, 4, 4, 1)]
    [InlineData(2, 256, 0, 100, 100, 1)]
    [InlineData(2, 256, 64, 256, 100, 1)]
    [InlineData(2, 256, 64, 100, 0, 1)]
    [InlineData(2, 256, 64, 100, 100, 0)]
    public async Task Load_InvalidOptions_InvalidOptions(int threads, int context, int ubatch, int maxPrompt, int maxOutput, int sequences)
    {
        var options = StoriesModel.Options() with { Threads = threads, ContextSize = context, MicroBatchSize = ubatch, MaxPromptTokens = maxPrompt, MaxOutputTokens = maxOutput, MaxConcurrentSequences = sequences };
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(options));
        Assert.Equal(EngineErrorCodes.InvalidOptions, ex.Code);
    }

    [Fact]
    public async Task Load_Q8KvWithoutFlashAttention_InvalidOptions()
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(StoriesModel.Options() with { KvCacheType = KvCacheType.Q80 }));
        Assert.Equal(EngineErrorCodes.InvalidOptions, ex.Code);
        Assert.Contains("flash attention", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_Q8KvOnHeadDimensionEight_InvalidOptionsInsteadOfCrash()
    {
        // Regression: llama.cpp segfaulted in the first decode with this combination.
        var ex = await Assert.ThrowsAsync<EngineException>(() => LlamaInferenceEngine.LoadAsync(StoriesModel.Options() with { KvCacheType = KvCacheType.Q80, FlashAttention = true }));
        Assert.Equal(EngineErrorCodes.InvalidOptions, ex.Code);
        Assert.Contains("head dimension", ex.Message, StringComparison.Ordinal);
        Assert.Contains(" 8.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_TwoEnginesDifferentThreadCounts_SameTokensAndActivations()
    {
        await using var one = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(threads: 1, sequences: 1));
        await using var two = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(threads: 2, sequences: 1));
        Assert.Equal(one.Identity, two.Identity);
        var sampling = new SamplingParameters { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.05f, RepetitionPenalty = 1.1f };
        var request = new GenerationRequest(one.Tokenize("Once upon a time", true), sampling, 1234, 64);
        var observerOne = new RecordingObserver();
        var observerTwo = new RecordingObserver();
        var a = await StoriesModel.CollectAsync(one, request, observerOne);
        var b = await StoriesModel.CollectAsync(two, request, observerTwo);
        Assert.Equal(a, b);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(observerOne.Tokens[i].Hidden, observerTwo.Tokens[i].Hidden);
            Assert.Equal(observerOne.Tokens[i].Logits, observerTwo.Tokens[i].Logits);
        }
    }

    [Fact]
    public async Task Generate_QueueFull_BusyAndEngineStillServes()
    {
        await using var engine = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(sequences: 1, queue: 1));
        var request = new GenerationRequest(engine.Tokenize("Once upon a time", true), SamplingParameters.Greedy, 1, 100);

        // The first generation holds the only sequence while paused inside its enumeration.
        await using var holder = engine.GenerateAsync(request).GetAsyncEnumerator();
        Assert.True(await holder.MoveNextAsync());

        // The second waits in the queue (its first MoveNext cannot complete yet); the third is refused.
        var waiting = StoriesModel.CollectAsync(engine, request);
        var ex = await Assert.ThrowsAsync<EngineException>(() => StoriesModel.CollectAsync(engine, request));
        Assert.Equal(EngineErrorCodes.Busy, ex.Code);
        Assert.False(waiting.IsCompleted);

        await holder.DisposeAsync();
        var served = await waiting;
        Assert.NotEmpty(served);
    }

    [Fact]
    public async Task Dispose_ThenGenerate_Disposed()
    {
        var engine = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(sequences: 1));
        await engine.DisposeAsync();
        var ex = await Assert.ThrowsAsync<EngineException>(() => StoriesModel.CollectAsync(engine, new GenerationRequest([1, 2], SamplingParameters.Greedy, 1, 4)));
        Assert.Equal(EngineErrorCodes.Disposed, ex.Code);
    }

    [Fact]
    public void NativeBackend_Loaded_ReportsBuildAndVariant()
    {
        var info = NativeBackend.EnsureLoaded(LlamaCpuVariant.Auto);
        Assert.Equal("c0c7e147", info.Build);
        Assert.Equal("815a2a591", info.NativeCommit); // read from the loaded libggml-base, checked against the build
        Assert.Equal("cpu", info.Backend);
        Assert.Contains(info.CpuVariant, new[] { "avx512", "avx2", "avx", "noavx" });
        Assert.Contains(info.Devices, d => d.Contains("CPU", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("c0c7e147")]
    [InlineData("815a2a590")]
    [InlineData("")]
    [InlineData(null)]
    public void NativeBackend_LibraryReportingAnotherBuild_RefusedNamingBoth(string? reported)
    {
        var ex = Assert.Throws<EngineException>(() => NativeBackend.Describe(reported, "cpu", "avx2", string.Empty, ["CPU"]));

        Assert.Equal(EngineErrorCodes.NativeBuildMismatch, ex.Code);
        Assert.True(ex.IsFatal);
        Assert.Contains(NativeBackend.NativeCommit, ex.Message, StringComparison.Ordinal);
        Assert.Contains(NativeBackend.LlamaCppBuild, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NativeBackend_LibraryReportingTheKnownBuild_RecordsTheBuildName()
    {
        var info = NativeBackend.Describe(NativeBackend.NativeCommit, "cpu", "avx2", string.Empty, ["CPU"]);

        Assert.Equal((NativeBackend.LlamaCppBuild, NativeBackend.NativeCommit), (info.Build, info.NativeCommit));
    }
}
