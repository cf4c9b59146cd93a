using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;

namespace PoIP.Inference.Tests.Llama;

public sealed class LlamaInferenceEngineTests : IClassFixture<StoriesEngineFixture>
{
    private static readonly SamplingParameters Warm = new() { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.05f };
    private readonly LlamaInferenceEngine _engine;

    public LlamaInferenceEngineTests(StoriesEngineFixture fixture) => _engine = fixture.Engine;

    private GenerationRequest Request(string prompt, SamplingParameters sampling, ulong seed = 42, int maxTokens = 48) =>
        new(_engine.Tokenize(prompt, addBeginOfSequence: true), sampling, seed, maxTokens);

    [Fact]
    public void Load_Stories260K_DescribesModelAndIdentity()
    {
        Assert.Equal(StoriesModel.Sha256, _engine.Model.Id.ToString());
        Assert.Equal("llama", _engine.Model.Architecture);
        Assert.Equal(512, _engine.Model.VocabularySize);
        Assert.Equal(64, _engine.Model.EmbeddingLength);
        Assert.Equal(5, _engine.Model.LayerCount);
        Assert.Equal("llama.cpp", _engine.Identity.Engine);
        Assert.Equal("c0c7e147", _engine.Identity.Build);
        Assert.False(_engine.Identity.FlashAttention);
        Assert.Equal("f16", _engine.Identity.KvCacheType);
        Assert.Equal(64, _engine.Identity.Ubatch);
        Assert.Contains(_engine.Identity.CpuVariant, new[] { "avx512", "avx2", "avx", "noavx" });
    }

    [Theory]
    [InlineData("Once upon a time, there was a little girl named Lily.")]
    [InlineData("The cat sat on the mat. It was happy!")]
    [InlineData("Tom said, \"Let's play with the ball.\"")]
    public void Tokenize_ThenDetokenize_RoundTrips(string text)
    {
        var tokens = _engine.Tokenize(text, addBeginOfSequence: false);
        Assert.NotEmpty(tokens);
        Assert.All(tokens, t => Assert.InRange(t, 0, _engine.Model.VocabularySize - 1));

        // SentencePiece prefixes the text with a space marker; detokenizing gives it back as a leading space.
        Assert.Equal(text, _engine.Detokenize(tokens).TrimStart(' '));
    }

    [Fact]
    public void Tokenize_WithBos_StartsWithBos()
    {
        var tokens = _engine.Tokenize("Once upon a time", addBeginOfSequence: true);
        Assert.Equal(_engine.Model.BeginOfSequenceToken, tokens[0]);
    }

    [Fact]
    public async Task Generate_Greedy_ProducesReadableTextAndStopReason()
    {
        var tokens = await StoriesModel.CollectAsync(_engine, Request("Once upon a time", SamplingParameters.Greedy, maxTokens: 40));
        Assert.InRange(tokens.Count, 1, 40);
        Assert.All(tokens[..^1], t => Assert.Equal(StopReason.None, t.Stop));
        Assert.NotEqual(StopReason.None, tokens[^1].Stop);
        Assert.Equal(Enumerable.Range(0, tokens.Count), tokens.Select(t => t.Index));
        string text = string.Concat(tokens.Select(t => t.Piece));
        Assert.Equal(_engine.Detokenize(tokens.Select(t => t.TokenId).ToList()), text);
        Assert.Contains(' ', text);
    }

    [Fact]
    public async Task Generate_SameSeed_SameTokens()
    {
        var first = await StoriesModel.CollectAsync(_engine, Request("Lily and Ben went to the park", Warm, seed: 7));
        var second = await StoriesModel.CollectAsync(_engine, Request("Lily and Ben went to the park", Warm, seed: 7));
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Generate_DifferentSeeds_Differ()
    {
        var hot = Warm with { Temperature = 1.5f, TopK = 0, TopP = 1f, MinP = 0f };
        var outputs = new HashSet<string>();
        for (ulong seed = 1; seed <= 4; seed++)
        {
            var tokens = await StoriesModel.CollectAsync(_engine, Request("Once upon a time", hot, seed, maxTokens: 24));
            outputs.Add(string.Join(',', tokens.Select(t => t.TokenId)));
        }

        Assert.True(outputs.Count >= 3, $"4 seeds gave only {outputs.Count} distinct outputs");
    }

    [Fact]
    public async Task Generate_WithOrWithoutObserver_SameTokens()
    {
        var observer = new RecordingObserver();
        var plain = await StoriesModel.CollectAsync(_engine, Request("The dog ran", Warm, seed: 3));
        var observed = await StoriesModel.CollectAsync(_engine, Request("The dog ran", Warm, seed: 3), observer);
        Assert.Equal(plain, observed);
    }

    [Fact]
    public async Task Generate_Observer_ReportsHiddenStateAndLogitsOfEveryToken()
    {
        var request = Request("The dog ran", Warm, seed: 3, maxTokens: 20);
        var observer = new RecordingObserver();
        var tokens = await StoriesModel.CollectAsync(_engine, request, observer);
        Assert.Equal(request.PromptTokens.Count, observer.PromptCount);
        Assert.Equal(_engine.Model.EmbeddingLength, observer.PrefillHidden!.Length);
        Assert.Equal(tokens.Count, observer.Tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            var (index, token, hidden, logits) = observer.Tokens[i];
            Assert.Equal(i, index);
            Assert.Equal(tokens[i].TokenId, token);
            Assert.Equal(_engine.Model.EmbeddingLength, hidden.Length);
            Assert.Equal(_engine.Model.VocabularySize, logits.Length);
            Assert.All(hidden, v => Assert.True(float.IsFinite(v)));
        }

        Assert.Equal(observer.PrefillHidden, observer.Tokens[0].Hidden);
    }

    [Fact]
    public async Task Generate_Greedy_FollowsArgMaxOfReportedLogits()
    {
        var observer = new RecordingObserver();
        var tokens = await StoriesModel.CollectAsync(_engine, Request("One day", SamplingParameters.Greedy, maxTokens: 16), observer);
        foreach (var (_, token, _, logits) in observer.Tokens)
        {
            Assert.Equal(Array.IndexOf(logits, logits.Max()), token);
        }

        Assert.NotEmpty(tokens);
    }

    [Fact]
    public async Task Generate_MaxTokens_StopsExactlyThere()
    {
        var sampling = Warm with { Temperature = 1.2f };
        var tokens = await StoriesModel.CollectAsync(_engine, Request("Once upon a time", sampling, seed: 11, maxTokens: 5));
        Assert.True(tokens.Count <= 5);
        if (tokens.Count == 5)
        {
            Assert.True(tokens[^1].Stop is StopReason.MaxTokens or StopReason.EndOfSequence);
        }
    }

    [Fact]
    public async Task Generate_EndToken_YieldsItAsLastTokenWithEndOfSequence()
    {
        // stories260K rarely emits an end token within a short run, so a token the model does emit
        // (the 10th of a sampled story) is configured as an extra end token: the engine must stop at
        // its first occurrence, yield it last with EndOfSequence, and change nothing before it.
        var prompt = _engine.Tokenize("Once upon a time", addBeginOfSequence: true);
        var plain = await StoriesModel.CollectAsync(_engine, new GenerationRequest(prompt, Warm, 3, 60));
        int endToken = plain[10].TokenId;
        int separator = plain.FindIndex(t => t.TokenId == endToken);

        await using var engine = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(sequences: 1) with { AdditionalEndTokens = [endToken] });
        var tokens = await StoriesModel.CollectAsync(engine, new GenerationRequest(prompt, Warm, 3, 60));
        Assert.Equal(separator + 1, tokens.Count);
        Assert.Equal(StopReason.EndOfSequence, tokens[^1].Stop);
        Assert.Equal(endToken, tokens[^1].TokenId);
        Assert.Equal(plain.Take(separator).Select(t => t.TokenId), tokens.Take(separator).Select(t => t.TokenId));
    }

    [Fact]
    public async Task Generate_StopSequence_StopsOnDetokenizedText()
    {
        var full = await StoriesModel.CollectAsync(_engine, Request("Once upon a time", SamplingParameters.Greedy, maxTokens: 60));
        string text = string.Concat(full.Select(t => t.Piece));
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        Assert.True(dot > 0, "greedy text has a full stop: " + text);

        var stopped = await StoriesModel.CollectAsync(_engine, Request("Once upon a time", SamplingParameters.Greedy with { StopSequences = ["."] }, maxTokens: 60));
        string stoppedText = string.Concat(stopped.Select(t => t.Piece));
        Assert.Equal(StopReason.StopSequence, stopped[^1].Stop);
        Assert.EndsWith(".", stoppedText.TrimEnd(), StringComparison.Ordinal);
        Assert.Equal(text[..(dot + 1)], stoppedText[..(dot + 1)]);
        Assert.Equal(full.Take(stopped.Count).Select(t => t.TokenId), stopped.Select(t => t.TokenId));
    }

    [Fact]
    public async Task Generate_Cancelled_StopsAndEngineStillServes()
    {
        using var cts = new CancellationTokenSource();
        var received = new List<GeneratedToken>();
        var sampling = Warm with { Temperature = 1.0f };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var token in _engine.GenerateAsync(Request("Once upon a time", sampling, maxTokens: 200), null, cts.Token))
            {
                received.Add(token);
                if (received.Count == 3)
                {
                    await cts.CancelAsync();
                }
            }
        });
        Assert.Equal(3, received.Count);
        var after = await StoriesModel.CollectAsync(_engine, Request("Once upon a time", SamplingParameters.Greedy, maxTokens: 8));
        Assert.NotEmpty(after);
    }

    [Fact]
    public async Task Generate_OversizePrompt_TypedErrorAndEngineStillServes()
    {
        var prompt = Enumerable.Repeat(_engine.Tokenize("cat", false)[0], 201).Prepend(1).ToList();
        var ex = await Assert.ThrowsAsync<EngineException>(() => StoriesModel.CollectAsync(_engine, new GenerationRequest(prompt, SamplingParameters.Greedy, 1, 8)));
        Assert.Equal(EngineErrorCodes.PromptTooLong, ex.Code);
        Assert.Contains("202", ex.Message, StringComparison.Ordinal);
        Assert.NotEmpty(await StoriesModel.CollectAsync(_engine, Request("Once", SamplingParameters.Greedy, maxTokens: 4)));
    }

    [Theory]
    [InlineData(-1f, 40, 0.9f, 0f, 1f)]
    [InlineData(0.8f, -3, 0.9f, 0f, 1f)]
    [InlineData(0.8f, 40, 0f, 0f, 1f)]
    [InlineData(0.8f, 40, 0.9f, 2f, 1f)]
    [InlineData(0.8f, 40, 0.9f, 0f, 0.5f)]
    [InlineData(float.NaN, 40, 0.9f, 0f, 1f)]
    public async Task Generate_InvalidSampling_TypedErrorAndEngineStillServes(float temperature, int topK, float topP, float minP, float penalty)
    {
        var sampling = new SamplingParameters { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, RepetitionPenalty = penalty };
        var ex = await Assert.ThrowsAsync<EngineException>(() => StoriesModel.CollectAsync(_engine, Request("Once", sampling)));
        Assert.Equal(EngineErrorCodes.InvalidSampling, ex.Code);
        Assert.NotEmpty(await StoriesModel.CollectAsync(_engine, Request("Once", SamplingParameters.Greedy, maxTokens: 4)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(201)]
    public async Task Generate_InvalidMaxTokens_TypedError(int maxTokens)
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => StoriesModel.CollectAsync(_engine, Request("Once", SamplingParameters.Greedy, maxTokens: maxTokens)));
        Assert.Equal(EngineErrorCodes.InvalidMaxTokens, ex.Code);
    }

    [Fact]
    public async Task Generate_TokenOutsideVocabulary_TypedError()
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => StoriesModel.CollectAsync(_engine, new GenerationRequest([1, 512], SamplingParameters.Greedy, 1, 4)));
        Assert.Equal(EngineErrorCodes.InvalidToken, ex.Code);
    }

    [Fact]
    public async Task Generate_EmptyPrompt_TypedError()
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => StoriesModel.CollectAsync(_engine, new GenerationRequest([], SamplingParameters.Greedy, 1, 4)));
        Assert.Equal(EngineErrorCodes.EmptyPrompt, ex.Code);
    }

    [Fact]
    public async Task Generate_ContextFull_StopsWithContextFull()
    {
        // 200-token prompt + 200 tokens > context 256: generation must end with ContextFull (or EOS earlier).
        var cat = _engine.Tokenize(" the cat and the dog", false);
        var prompt = new List<int> { 1 };
        while (prompt.Count + cat.Count <= 200)
        {
            prompt.AddRange(cat);
        }

        var sampling = new SamplingParameters { Temperature = 0.7f, TopK = 0, TopP = 1f, MinP = 0f, RepetitionPenalty = 1f };
        StopReason last = StopReason.None;
        int count = 0;
        for (ulong seed = 1; seed <= 5 && last != StopReason.ContextFull; seed++)
        {
            var tokens = await StoriesModel.CollectAsync(_engine, new GenerationRequest(prompt, sampling with { }, seed, 200));
            last = tokens[^1].Stop;
            count = tokens.Count;
            Assert.True(prompt.Count + count <= 256 + 1);
        }

        Assert.Equal(StopReason.ContextFull, last);
        Assert.Equal(256 - prompt.Count + 1, count);
    }

    [Fact]
    public async Task Generate_Concurrent_SameResultsAsSequential()
    {
        var requests = Enumerable.Range(0, 6).Select(i => Request(i % 2 == 0 ? "Once upon a time" : "The little bird", Warm, seed: (ulong)(100 + i), maxTokens: 32)).ToList();
        var sequential = new List<List<GeneratedToken>>();
        foreach (var request in requests)
        {
            sequential.Add(await StoriesModel.CollectAsync(_engine, request));
        }

        var concurrent = await Task.WhenAll(requests.Select(r => Task.Run(() => StoriesModel.CollectAsync(_engine, r))));
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(sequential[i], concurrent[i]);
        }
    }

    [Fact]
    public async Task Tokenize_HugeText_TypedError()
    {
        var ex = Assert.Throws<EngineException>(() => _engine.Tokenize(new string('a', 256 * 64 + 1), false));
        Assert.Equal(EngineErrorCodes.PromptTooLong, ex.Code);
        Assert.NotEmpty(await StoriesModel.CollectAsync(_engine, Request("Once", SamplingParameters.Greedy, maxTokens: 2)));
    }
}
