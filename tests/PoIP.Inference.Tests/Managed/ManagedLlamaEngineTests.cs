using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Managed;

namespace PoIP.Inference.Tests.Managed;

public sealed class ManagedLlamaEngineTests
{
    [Fact]
    public async Task GenerateAsync_Stories260KGreedy_MatchesLlamaCppTokensAndHiddenStates()
    {
        await using var engine = await ManagedLlamaEngine.LoadAsync(Stories.Path);
        using var reference = new LlamaCppReference(Stories.Path);
        double worst = 0;
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
                worst = Math.Max(worst, Numerics.RelativeL2(observer.Hidden[i], expectedHidden[i]));
            }
        }

        Console.WriteLine($"stories260K managed vs llama.cpp hidden-state relative L2, worst position: {worst:E3}");
        Assert.True(worst < 1e-3, $"worst relative L2 {worst}");
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
