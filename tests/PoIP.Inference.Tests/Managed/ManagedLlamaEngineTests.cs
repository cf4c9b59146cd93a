using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Managed;

namespace PoIP.Inference.Tests.Managed;

public sealed class ManagedLlamaEngineTests
{
    [Theory]
    [InlineData("f16", 5e-4, 5e-3)]
    [InlineData("f32", 2e-3, 5e-3)]
    public async Task GenerateAsync_Stories260KGreedy_MatchesLlamaCppTokensAndHiddenStates(string kvCache, double medianTolerance, double maxTolerance)
    {
        await using var engine = await ManagedLlamaEngine.LoadAsync(Stories.Path, new ManagedLlamaEngineOptions { KvCacheType = kvCache });
        using var reference = new LlamaCppReference(Stories.Path);
        var errors = new List<double>();
        foreach (string prompt in Stories.Prompts)
        {
            IReadOnlyList<int> tokens = engine.Tokenize(prompt, addBeginOfSequence: true);
            var (expected, expectedHidden) = reference.GreedyDecode(tokens, 48, engine.Model.EndOfSequenceToken);
            var observer = new CaptureObserver();
            var actual = new List<int>();
            await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(tokens, SamplingParameters.Greedy, 1, 48), observer))
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
        double median = errors[errors.Count / 2];
        double max = errors[^1];
        Console.WriteLine($"stories260K managed(kv={kvCache}) vs llama.cpp(kv=f16) hidden-state relative L2 over {errors.Count} positions: median {median:E2}, max {max:E2}");
        Assert.True(median < medianTolerance, $"median relative L2 {median}");
        Assert.True(max < maxTolerance, $"max relative L2 {max}");
    }
}

internal sealed class CaptureObserver : IActivationObserver
{
    public int PrefillCount { get; private set; } = -1;

    public List<float[]> Hidden { get; } = [];

    public List<float[]> Logits { get; } = [];

    public List<int> Tokens { get; } = [];

    public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState) => PrefillCount = promptTokenCount;

    public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
    {
        Assert.Equal(Tokens.Count, index);
        Tokens.Add(tokenId);
        Hidden.Add(hiddenState.ToArray());
        Logits.Add(logits.ToArray());
    }
}

internal static class Numerics
{
    public static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return Math.Sqrt(diff / Math.Max(norm, 1e-30));
    }
}
