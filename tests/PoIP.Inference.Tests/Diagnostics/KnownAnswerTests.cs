using PoIP.Core.Protocol;
using PoIP.Inference.Diagnostics;
using PoIP.Inference.Llama;
using PoIP.Inference.Tests.Llama;
using PoIP.TestUtils;
using Xunit.Abstractions;

namespace PoIP.Inference.Tests.Diagnostics;

public sealed class KnownAnswerTests
{
    private readonly ITestOutputHelper _output;

    public KnownAnswerTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task RunAsync_ThisMachine_Passes()
    {
        // POIP_KAT_CPU_VARIANT=avx2 (etc.) runs this test on another llama.cpp build (the variant is process-wide).
        var variant = Environment.GetEnvironmentVariable("POIP_KAT_CPU_VARIANT") switch
        {
            "avx512" => LlamaCpuVariant.Avx512,
            "avx2" => LlamaCpuVariant.Avx2,
            "avx" => LlamaCpuVariant.Avx,
            "noavx" => LlamaCpuVariant.NoAvx,
            _ => LlamaCpuVariant.Auto,
        };
        await using var engine = await LlamaInferenceEngine.LoadAsync(KnownAnswerTest.EngineOptions(StoriesModel.Path) with { CpuVariant = variant });
        if (Environment.GetEnvironmentVariable("POIP_REGENERATE_KNOWN_ANSWERS") == "1")
        {
            string json = await KnownAnswerTest.ProduceJsonAsync(engine);
            string path = Path.Combine(RepositoryPaths.Root, "src", "PoIP.Inference", "Diagnostics", "known-answers.json");
            await File.WriteAllTextAsync(path, json + "\n");
            Assert.Fail($"known-answer vectors regenerated into {path}; rebuild and run again without POIP_REGENERATE_KNOWN_ANSWERS.");
        }

        var result = await KnownAnswerTest.RunAsync(engine);
        foreach (var c in result.Cases)
        {
            _output.WriteLine($"{c.Name}: {c.Detail}");
        }

        Assert.True(result.Passed, result.Summary + ": " + string.Join("; ", result.Cases.Select(c => c.Name + " " + c.Detail)));
        Assert.Equal(4, result.Cases.Count);
        Assert.Contains(result.Cases, c => c.ExactActivations);
    }

    [Fact]
    public async Task RunAsync_FlashAttentionOn_NeverClaimsExactDigest()
    {
        // Flash attention on is another identity: its numbers differ in the last bits, so no digest applies;
        // tokens must still match and hidden-state norms stay within 1e-3 (measured: all four cases pass).
        await using var engine = await LlamaInferenceEngine.LoadAsync(KnownAnswerTest.EngineOptions(StoriesModel.Path) with { FlashAttention = true });
        var result = await KnownAnswerTest.RunAsync(engine);
        _output.WriteLine(result.Summary);
        Assert.DoesNotContain(result.Cases, c => c.ExactActivations);
        Assert.True(result.Passed, string.Join("; ", result.Cases.Select(c => c.Name + " " + c.Detail)));
    }

    [Fact]
    public async Task RunAsync_OtherModel_Fails()
    {
        await using var engine = await LlamaInferenceEngine.LoadAsync(KnownAnswerTest.EngineOptions(StoriesModel.Path));
        var tampered = new TamperedEngine(engine);
        var result = await KnownAnswerTest.RunAsync(tampered);
        Assert.False(result.Passed);
        var ex = await Assert.ThrowsAsync<PoIP.Core.Errors.EngineException>(() => KnownAnswerTest.EnsurePassedAsync(tampered));
        Assert.Equal(EngineErrorCodes.KnownAnswerFailed, ex.Code);
        Assert.True(ex.IsFatal);
    }

    /// <summary>Serves the real model but samples differently (a node that deviates from the standard).</summary>
    private sealed class TamperedEngine(LlamaInferenceEngine inner) : PoIP.Core.Engine.IInferenceEngine
    {
        public PoIP.Core.Engine.EngineIdentity Identity => inner.Identity;

        public PoIP.Core.Engine.ModelDescriptor Model => inner.Model;

        public IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence) => inner.Tokenize(text, addBeginOfSequence);

        public string Detokenize(IReadOnlyList<int> tokens) => inner.Detokenize(tokens);

        public IAsyncEnumerable<PoIP.Core.Engine.GeneratedToken> GenerateAsync(PoIP.Core.Engine.GenerationRequest request, PoIP.Core.Engine.IActivationObserver? observer = null, CancellationToken cancellationToken = default) =>
            inner.GenerateAsync(request with { Sampling = request.Sampling with { RepetitionPenalty = 2f, RepetitionWindow = 8 } }, observer, cancellationToken);

        public Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, PoIP.Core.Engine.IActivationObserver observer, CancellationToken cancellationToken = default) =>
            inner.TeacherForceAsync(promptTokens, outputTokens, observer, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
