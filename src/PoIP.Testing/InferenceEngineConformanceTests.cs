using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;
using Xunit;

namespace PoIP.Testing;

/// <summary>
/// Conformance suite of the Inference Engine Standard. Derive a test class, return your engine from
/// <see cref="CreateEngineAsync"/> and state <see cref="ModelPath"/> and <see cref="HiddenStateTolerance"/>;
/// xunit then runs every check below against your adapter: tokenizer round trip, determinism,
/// cancellation, limits (typed errors, engine keeps serving), capture shapes, stop reasons and
/// teacher-forcing agreement.
/// </summary>
public abstract class InferenceEngineConformanceTests
{
    /// <summary>A llama-architecture model the engine can serve (small: the suite generates a few hundred tokens).</summary>
    protected abstract string ModelPath { get; }

    /// <summary>
    /// Largest relative L2 distance allowed between the hidden state a position gets while decoding and
    /// the one it gets under teacher-forced re-execution (0 for engines whose prefill equals decode bit for bit).
    /// </summary>
    protected abstract double HiddenStateTolerance { get; }

    /// <summary>Prompt used by the suite.</summary>
    protected virtual string Prompt => "Once upon a time";

    /// <summary>Tokens generated per check.</summary>
    protected virtual int MaxTokens => 24;

    /// <summary>Texts of the tokenizer round trip.</summary>
    protected virtual IReadOnlyList<string> RoundTripTexts { get; } =
    [
        "Once upon a time, there was a little girl.",
        "  leading spaces,\ttabs and\nnew lines",
        "Ünïcödé, 日本語 and 🦙",
        "a",
    ];

    /// <summary>Creates the engine under test, serving <paramref name="modelPath"/>.</summary>
    protected abstract Task<IInferenceEngine> CreateEngineAsync(string modelPath);

    /// <summary>Detokenize(Tokenize(text)) gives the text back, with and without BOS.</summary>
    [Fact]
    public async Task Tokenize_ThenDetokenize_RoundTrips()
    {
        await using IInferenceEngine engine = await CreateEngineAsync(ModelPath);
        foreach (string text in RoundTripTexts)
        {
            Assert.Equal(text, engine.Detokenize(engine.Tokenize(text, addBeginOfSequence: false)));
            IReadOnlyList<int> withBos = engine.Tokenize(text, addBeginOfSequence: true);
            if (engine.Model.BeginOfSequenceToken >= 0)
            {
                Assert.Equal(engine.Model.BeginOfSequenceToken, withBos[0]);
            }

            Assert.Equal(text, engine.Detokenize(withBos));
        }
    }

    /// <summary>The same request and seed give the same tokens, greedy and sampled.</summary>
    [Fact]
    public async Task GenerateAsync_SameSeed_SameTokens()
    {
        await using IInferenceEngine engine = await CreateEngineAsync(ModelPath);
        IReadOnlyList<int> prompt = engine.Tokenize(Prompt, true);
        var sampled = new SamplingParameters { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.05f, RepetitionPenalty = 1.1f };
        foreach (SamplingParameters sampling in new[] { SamplingParameters.Greedy, sampled })
        {
            var request = new GenerationRequest(prompt, sampling, 1234, MaxTokens);
            List<GeneratedToken> first = await CollectAsync(engine, request);
            List<GeneratedToken> second = await CollectAsync(engine, request);
            Assert.NotEmpty(first);
            Assert.Equal(first, second);
        }
    }

    /// <summary>Indices run 0..n-1, only the last token carries a stop reason, MaxTokens is honoured, EOS comes last.</summary>
    [Fact]
    public async Task GenerateAsync_TokenLimit_StopsWithReasonOnLastToken()
    {
        await using IInferenceEngine engine = await CreateEngineAsync(ModelPath);
        IReadOnlyList<int> prompt = engine.Tokenize(Prompt, true);
        foreach (int limit in new[] { 1, 3, MaxTokens })
        {
            List<GeneratedToken> tokens = await CollectAsync(engine, new GenerationRequest(prompt, SamplingParameters.Greedy, 0, limit));
            Assert.InRange(tokens.Count, 1, limit);
            for (int i = 0; i < tokens.Count; i++)
            {
                Assert.Equal(i, tokens[i].Index);
                Assert.Equal(i == tokens.Count - 1, tokens[i].Stop != StopReason.None);
            }

            GeneratedToken last = tokens[^1];
            if (last.TokenId == engine.Model.EndOfSequenceToken)
            {
                Assert.Equal(StopReason.EndOfSequence, last.Stop);
            }
            else
            {
                Assert.Equal(limit, tokens.Count);
                Assert.Equal(StopReason.MaxTokens, last.Stop);
            }
        }
    }

    /// <summary>A stop sequence taken from the greedy output stops generation at the token that completes it.</summary>
    [Fact]
    public async Task GenerateAsync_StopSequence_StopsWhereTextContainsIt()
    {
        await using IInferenceEngine engine = await CreateEngineAsync(ModelPath);
        IReadOnlyList<int> prompt = engine.Tokenize(Prompt, true);
        List<GeneratedToken> free = await CollectAsync(engine, new GenerationRequest(prompt, SamplingParameters.Greedy, 0, MaxTokens));
        // A token whose trimmed piece ends the text and does not occur before it: "contains" and
        // "ends with" stop semantics then agree on where generation must stop.
        int cut = -1;
        string stop = string.Empty;
        for (int i = 2; i < free.Count - 1 && cut < 0; i++)
        {
            string candidate = free[i].Piece.Trim();
            string before = string.Concat(free.Take(i).Select(t => t.Piece));
            string through = before + free[i].Piece;
            if (candidate.Length is > 0 and <= SamplingParameters.MaxStopSequenceLength
                && !before.Contains(candidate, StringComparison.Ordinal) && through.EndsWith(candidate, StringComparison.Ordinal))
            {
                cut = i;
                stop = candidate;
            }
        }

        Assert.True(cut > 0, "no token of the greedy output can serve as a stop sequence; use a longer MaxTokens or another Prompt.");
        int expectedLast = cut;

        List<GeneratedToken> stopped = await CollectAsync(engine, new GenerationRequest(prompt, SamplingParameters.Greedy with { StopSequences = [stop] }, 0, MaxTokens));
        Assert.Equal(expectedLast + 1, stopped.Count);
        Assert.Equal(StopReason.StopSequence, stopped[^1].Stop);
        Assert.Equal(free.Take(stopped.Count).Select(t => t.TokenId), stopped.Select(t => t.TokenId));
    }

    /// <summary>Cancelling after the first token stops the stream at once; the engine then serves again.</summary>
    [Fact]
    public async Task GenerateAsync_Cancelled_StopsWithinOneTokenAndKeepsServing()
    {
        await using IInferenceEngine engine = await CreateEngineAsync(ModelPath);
        IReadOnlyList<int> prompt = engine.Tokenize(Prompt, true);
        using var cancellation = new CancellationTokenSource();
        int received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (GeneratedToken token in engine.GenerateAsync(new GenerationRequest(prompt, SamplingParameters.Greedy, 0, Math.Max(MaxTokens, 32)), null, cancellation.Token))
            {
                received++;
                await cancellation.CancelAsync();
            }
        });
        Assert.InRange(received, 1, 2);

        using var already = new CancellationTokenSource();
        await already.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CollectAsync(engine, new GenerationRequest(prompt, SamplingParameters.Greedy, 0, 4), null, already.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.TeacherForceAsync(prompt, [1, 2], new NullObserver(), already.Token));
        Assert.NotEmpty(await CollectAsync(engine, new GenerationRequest(prompt, SamplingParameters.Greedy, 0, 4)));
    }

    /// <summary>Oversize prompts, empty prompts, out-of-vocabulary tokens and invalid sampling raise <see cref="EngineException"/>; the engine keeps serving.</summary>
    [Fact]
    public async Task GenerateAsync_BadRequests_ThrowEngineExceptionAndKeepServing()
    {
        await using IInferenceEngine engine = await CreateEngineAsync(ModelPath);
        IReadOnlyList<int> prompt = engine.Tokenize(Prompt, true);
        int filler = prompt[^1];
        var bad = new List<GenerationRequest>
        {
            new(Enumerable.Repeat(filler, 1 << 20).ToArray(), SamplingParameters.Greedy, 0, 4),
            new([], SamplingParameters.Greedy, 0, 4),
            new([.. prompt, engine.Model.VocabularySize], SamplingParameters.Greedy, 0, 4),
            new([.. prompt, -1], SamplingParameters.Greedy, 0, 4),
            new(prompt, new SamplingParameters { Temperature = -1f }, 0, 4),
            new(prompt, new SamplingParameters { TopP = 0f }, 0, 4),
            new(prompt, SamplingParameters.Greedy, 0, 0),
        };
        foreach (GenerationRequest request in bad)
        {
            await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine, request));
        }

        await Assert.ThrowsAsync<EngineException>(() => engine.TeacherForceAsync(prompt, [engine.Model.VocabularySize], new NullObserver()));
        await Assert.ThrowsAsync<EngineException>(() => engine.TeacherForceAsync(Enumerable.Repeat(filler, 1 << 20).ToArray(), [1], new NullObserver()));
        Assert.NotEmpty(await CollectAsync(engine, new GenerationRequest(prompt, SamplingParameters.Greedy, 0, 4)));
    }

    /// <summary>The observer sees the prefill and every token with hidden = EmbeddingLength and logits = VocabularySize floats.</summary>
    [Fact]
    public async Task GenerateAsync_Observer_CapturesEveryPositionWithModelShapes()
    {
        await using IInferenceEngine engine = await CreateEngineAsync(ModelPath);
        IReadOnlyList<int> prompt = engine.Tokenize(Prompt, true);
        var observer = new RecordingObserver();
        List<GeneratedToken> tokens = await CollectAsync(engine, new GenerationRequest(prompt, SamplingParameters.Greedy, 0, MaxTokens), observer);
        Assert.Equal(prompt.Count, observer.PrefillTokens);
        Assert.Equal(engine.Model.EmbeddingLength, observer.PrefillHiddenLength);
        Assert.Equal(tokens.Select(t => t.TokenId), observer.Tokens);
        Assert.All(observer.Hidden, h => Assert.Equal(engine.Model.EmbeddingLength, h.Length));
        Assert.All(observer.Logits, l => Assert.Equal(engine.Model.VocabularySize, l.Length));
        Assert.All(observer.Hidden, h => Assert.Contains(h, v => v != 0f && float.IsFinite(v)));
        for (int i = 0; i < tokens.Count; i++)
        {
            Assert.Equal(tokens[i].TokenId, ArgMax(observer.Logits[i])); // greedy
        }
    }

    /// <summary>Teacher-forced re-execution of a greedy output: same argmax at every position, hidden states within the tolerance.</summary>
    [Fact]
    public async Task TeacherForceAsync_GreedyOutput_AgreesWithDecoding()
    {
        await using IInferenceEngine engine = await CreateEngineAsync(ModelPath);
        IReadOnlyList<int> prompt = engine.Tokenize(Prompt, true);
        var decoded = new RecordingObserver();
        List<GeneratedToken> tokens = await CollectAsync(engine, new GenerationRequest(prompt, SamplingParameters.Greedy, 0, MaxTokens), decoded);
        var forced = new RecordingObserver();
        await engine.TeacherForceAsync(prompt, tokens.Select(t => t.TokenId).ToArray(), forced);
        Assert.Equal(prompt.Count, forced.PrefillTokens);
        Assert.Equal(tokens.Select(t => t.TokenId), forced.Tokens);
        for (int i = 0; i < tokens.Count; i++)
        {
            Assert.Equal(tokens[i].TokenId, ArgMax(forced.Logits[i]));
            double error = RelativeL2(forced.Hidden[i], decoded.Hidden[i]);
            Assert.True(error <= HiddenStateTolerance, $"position {i}: hidden-state relative L2 {error} > {HiddenStateTolerance}");
        }
    }

    /// <summary>
    /// Whether the adapter implements <see cref="IDecodingReplay"/> (default true: validators need it to
    /// settle sampling disputes; override with false for an engine that cannot, and its receipts'
    /// disputed sampling checks stay inconclusive).
    /// </summary>
    protected virtual bool ImplementsDecodingReplay => true;

    /// <summary>A decoding replay of a sampled generation reports exactly the numbers decoding reported: the prompt state and every position's hidden state and logits, bit for bit.</summary>
    [Fact]
    public async Task ReplayDecodingAsync_SampledOutput_ReportsDecodingBitForBit()
    {
        await using IInferenceEngine engine = await CreateEngineAsync(ModelPath);
        if (engine is not IDecodingReplay replay)
        {
            Assert.False(ImplementsDecodingReplay, $"{engine.GetType().Name} does not implement IDecodingReplay; implement it or override ImplementsDecodingReplay.");
            return;
        }

        Assert.True(ImplementsDecodingReplay, $"{engine.GetType().Name} implements IDecodingReplay, but the suite was told it does not.");
        IReadOnlyList<int> prompt = engine.Tokenize(Prompt, true);
        var sampling = new SamplingParameters { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.05f };
        var decoded = new RecordingObserver();
        List<GeneratedToken> tokens = await CollectAsync(engine, new GenerationRequest(prompt, sampling, 7, MaxTokens), decoded);
        var replayed = new RecordingObserver();
        await replay.ReplayDecodingAsync(prompt, tokens.Select(t => t.TokenId).ToArray(), Math.Min(engine.Identity.Ubatch, replay.MaxReplayMicroBatch), replayed);
        Assert.Equal(decoded.PrefillTokens, replayed.PrefillTokens);
        Assert.Equal(decoded.PrefillHidden, replayed.PrefillHidden);
        Assert.Equal(decoded.Tokens, replayed.Tokens);
        for (int i = 0; i < tokens.Count; i++)
        {
            Assert.True(decoded.Hidden[i].AsSpan().SequenceEqual(replayed.Hidden[i]), $"position {i}: the replayed hidden state differs from decoding's");
            Assert.True(decoded.Logits[i].AsSpan().SequenceEqual(replayed.Logits[i]), $"position {i}: the replayed logits differ from decoding's");
        }
    }

    /// <summary>Collects a whole generation.</summary>
    protected static async Task<List<GeneratedToken>> CollectAsync(IInferenceEngine engine, GenerationRequest request, IActivationObserver? observer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var tokens = new List<GeneratedToken>();
        await foreach (GeneratedToken token in engine.GenerateAsync(request, observer, cancellationToken).ConfigureAwait(false))
        {
            tokens.Add(token);
        }

        return tokens;
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static double RelativeL2(float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            difference += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return Math.Sqrt(difference / Math.Max(norm, 1e-30));
    }

    private sealed class NullObserver : IActivationObserver
    {
        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
        {
        }

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
        {
        }
    }

    private sealed class RecordingObserver : IActivationObserver
    {
        public int PrefillTokens { get; private set; } = -1;

        public int PrefillHiddenLength { get; private set; } = -1;

        public float[] PrefillHidden { get; private set; } = [];

        public List<int> Tokens { get; } = [];

        public List<float[]> Hidden { get; } = [];

        public List<float[]> Logits { get; } = [];

        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
        {
            PrefillTokens = promptTokenCount;
            PrefillHiddenLength = lastHiddenState.Length;
            PrefillHidden = lastHiddenState.ToArray();
        }

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
        {
            Assert.Equal(Tokens.Count, index);
            Tokens.Add(tokenId);
            Hidden.Add(hiddenState.ToArray());
            Logits.Add(logits.ToArray());
        }
    }
}
