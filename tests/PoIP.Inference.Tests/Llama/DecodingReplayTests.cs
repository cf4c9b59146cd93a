using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;

namespace PoIP.Inference.Tests.Llama;

public sealed class DecodingReplayTests : IClassFixture<StoriesEngineFixture>
{
    private static readonly SamplingParameters Sampled = new() { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.05f };
    private readonly LlamaInferenceEngine _engine;

    public DecodingReplayTests(StoriesEngineFixture fixture) => _engine = fixture.Engine;

    [Theory]
    [InlineData("Once upon a time", 5UL)]
    [InlineData("The little dog was sad because", 77UL)]
    public async Task ReplayDecoding_SameEngine_ReportsDecodingBitForBit(string prompt, ulong seed)
    {
        var request = new GenerationRequest(_engine.Tokenize(prompt, true), Sampled, seed, 120);
        var decoded = new RecordingObserver();
        var tokens = (await StoriesModel.CollectAsync(_engine, request, decoded)).Select(t => t.TokenId).ToList();

        var replayed = new RecordingObserver();
        await _engine.ReplayDecodingAsync(request.PromptTokens, tokens, _engine.Identity.Ubatch, replayed);

        AssertBitForBit(decoded, replayed);
    }

    [Fact]
    public async Task ReplayDecoding_OtherThreadCount_StillBitForBit()
    {
        await using var node = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(threads: 2, sequences: 1));
        var request = new GenerationRequest(node.Tokenize("Lily and Tom went to the park", true), Sampled, 9, 100);
        var decoded = new RecordingObserver();
        var tokens = (await StoriesModel.CollectAsync(node, request, decoded)).Select(t => t.TokenId).ToList();

        var replayed = new RecordingObserver();
        await _engine.ReplayDecodingAsync(request.PromptTokens, tokens, node.Identity.Ubatch, replayed);

        AssertBitForBit(decoded, replayed);
    }

    [Fact]
    public async Task ReplayDecoding_NodeWithSmallerMicroBatch_ReproducedByChunkingThePrompt()
    {
        await using var node = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(sequences: 1) with { MicroBatchSize = 8 });
        string prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun with her friends.";
        var request = new GenerationRequest(node.Tokenize(prompt, true), Sampled, 3, 60);
        Assert.True(request.PromptTokens.Count > 3 * 8, "the prompt must span several of the node's micro-batches");
        var decoded = new RecordingObserver();
        var tokens = (await StoriesModel.CollectAsync(node, request, decoded)).Select(t => t.TokenId).ToList();

        var replayed = new RecordingObserver();
        await _engine.ReplayDecodingAsync(request.PromptTokens, tokens, 8, replayed);

        AssertBitForBit(decoded, replayed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public async Task ReplayDecoding_MicroBatchOutOfRange_TypedErrorAndEngineStillServes(int microBatch)
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => _engine.ReplayDecodingAsync([1, 300], [400, 401], microBatch, new RecordingObserver()));
        Assert.Equal(EngineErrorCodes.InvalidOptions, ex.Code);
        Assert.Contains(microBatch.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        var observer = new RecordingObserver();
        await _engine.ReplayDecodingAsync([1, 300], [400, 401], 64, observer);
        Assert.Equal([400, 401], observer.Tokens.Select(t => t.Token));
    }

    [Fact]
    public async Task ReplayDecoding_OverContext_TypedError()
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => _engine.ReplayDecodingAsync(Enumerable.Repeat(1, 200).ToList(), Enumerable.Repeat(5, 100).ToList(), 64, new RecordingObserver()));
        Assert.Equal(EngineErrorCodes.ContextOverflow, ex.Code);
    }

    [Fact]
    public async Task ReplayDecoding_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _engine.ReplayDecodingAsync([1, 300], [400, 401], 64, new RecordingObserver(), cts.Token));
    }

    private static void AssertBitForBit(RecordingObserver decoded, RecordingObserver replayed)
    {
        Assert.Equal(decoded.PromptCount, replayed.PromptCount);
        Assert.Equal(decoded.PrefillHidden, replayed.PrefillHidden);
        Assert.Equal(decoded.Tokens.Count, replayed.Tokens.Count);
        for (int i = 0; i < decoded.Tokens.Count; i++)
        {
            Assert.Equal(decoded.Tokens[i].Token, replayed.Tokens[i].Token);
            Assert.True(decoded.Tokens[i].Hidden.AsSpan().SequenceEqual(replayed.Tokens[i].Hidden), $"hidden state of position {i} differs");
            Assert.True(decoded.Tokens[i].Logits.AsSpan().SequenceEqual(replayed.Tokens[i].Logits), $"logits of position {i} differ");
        }
    }
}
