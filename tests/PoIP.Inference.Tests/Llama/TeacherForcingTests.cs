using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;
using Xunit.Abstractions;

namespace PoIP.Inference.Tests.Llama;

public sealed class TeacherForcingTests : IClassFixture<StoriesEngineFixture>
{
    /// <summary>
    /// Agreement bounds for stories260K F32 (FA off, KV f16, ubatch 64), documented in docs/engine-standard.md:
    /// measured max relative L2 error of the hidden state ~1e-3, max |Δlogit| ~1e-2; bounds leave ~5x margin.
    /// </summary>
    private const double MaxRelativeL2 = 1e-2;
    private const double MaxLogitDifference = 0.1;

    private readonly LlamaInferenceEngine _engine;
    private readonly ITestOutputHelper _output;

    public TeacherForcingTests(StoriesEngineFixture fixture, ITestOutputHelper output)
    {
        _engine = fixture.Engine;
        _output = output;
    }

    [Theory]
    [InlineData("Once upon a time", 5UL)]
    [InlineData("The little dog was sad because", 77UL)]
    public async Task TeacherForce_SampledOutput_AgreesWithDecoding(string prompt, ulong seed)
    {
        var sampling = new SamplingParameters { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.05f };
        var request = new GenerationRequest(_engine.Tokenize(prompt, true), sampling, seed, 120);
        var decoded = new RecordingObserver();
        var tokens = await StoriesModel.CollectAsync(_engine, request, decoded);

        var forced = new RecordingObserver();
        await _engine.TeacherForceAsync(request.PromptTokens, tokens.Select(t => t.TokenId).ToList(), forced);

        Assert.Equal(request.PromptTokens.Count, forced.PromptCount);
        Assert.Equal(tokens.Count, forced.Tokens.Count);
        var comparison = ActivationComparison.Compare(decoded.Tokens, forced.Tokens);
        _output.WriteLine(comparison.ToString());
        Assert.Equal(tokens.Select(t => t.TokenId), forced.Tokens.Select(t => t.Token));
        Assert.InRange(comparison.MaxRelativeL2, 0, MaxRelativeL2);
        Assert.InRange(comparison.MaxLogitDifference, 0, MaxLogitDifference);

        // Position 0 is computed by the prompt prefill in both runs: identical work, identical bits.
        Assert.Equal(decoded.Tokens[0].Hidden, forced.Tokens[0].Hidden);
    }

    [Fact]
    public async Task TeacherForce_AlteredOutput_DivergesFromDecoding()
    {
        var request = new GenerationRequest(_engine.Tokenize("Once upon a time", true), SamplingParameters.Greedy, 1, 60);
        var decoded = new RecordingObserver();
        var tokens = (await StoriesModel.CollectAsync(_engine, request, decoded)).Select(t => t.TokenId).ToList();
        var altered = tokens.ToList();
        altered[10] = (altered[10] + 17) % _engine.Model.VocabularySize;
        var forced = new RecordingObserver();
        await _engine.TeacherForceAsync(request.PromptTokens, altered, forced);
        var after = ActivationComparison.Compare(decoded.Tokens.Skip(11).ToList(), forced.Tokens.Skip(11).ToList());
        Assert.True(after.MaxRelativeL2 > 10 * MaxRelativeL2, after.ToString());
        Assert.True(after.MedianRelativeL2 > MaxRelativeL2, after.ToString());
    }

    [Fact]
    public async Task TeacherForce_OverContext_TypedErrorAndEngineStillServes()
    {
        var prompt = Enumerable.Repeat(1, 200).ToList();
        var output = Enumerable.Repeat(5, 100).ToList();
        var ex = await Assert.ThrowsAsync<EngineException>(() => _engine.TeacherForceAsync(prompt, output, new RecordingObserver()));
        Assert.Equal(EngineErrorCodes.ContextOverflow, ex.Code);
        var observer = new RecordingObserver();
        await _engine.TeacherForceAsync([1, 300], [400, 401], observer);
        Assert.Equal(2, observer.Tokens.Count);
    }

    [Fact]
    public async Task TeacherForce_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _engine.TeacherForceAsync([1, 300], [400, 401], new RecordingObserver(), cts.Token));
    }
}

/// <summary>How far two runs' activations sit apart.</summary>
internal sealed record ActivationComparison(int Positions, double MedianRelativeL2, double MaxRelativeL2, double MaxLogitDifference)
{
    public static ActivationComparison Compare(
        IReadOnlyList<(int Index, int Token, float[] Hidden, float[] Logits)> a,
        IReadOnlyList<(int Index, int Token, float[] Hidden, float[] Logits)> b)
    {
        var errors = new List<double>();
        double maxLogit = 0;
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            double diff = 0, norm = 0;
            for (int j = 0; j < a[i].Hidden.Length; j++)
            {
                double d = a[i].Hidden[j] - (double)b[i].Hidden[j];
                diff += d * d;
                norm += a[i].Hidden[j] * (double)a[i].Hidden[j];
            }

            errors.Add(Math.Sqrt(diff / Math.Max(norm, 1e-30)));
            for (int j = 0; j < a[i].Logits.Length; j++)
            {
                maxLogit = Math.Max(maxLogit, Math.Abs(a[i].Logits[j] - b[i].Logits[j]));
            }
        }

        errors.Sort();
        return new ActivationComparison(errors.Count, errors[errors.Count / 2], errors[^1], maxLogit);
    }

    public override string ToString() =>
        $"positions {Positions}: relative L2 of hidden state median {MedianRelativeL2:E2} max {MaxRelativeL2:E2}; max |Δlogit| {MaxLogitDifference:E2}";
}
