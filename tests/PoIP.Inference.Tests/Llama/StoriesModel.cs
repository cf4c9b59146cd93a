using PoIP.Core.Engine;
using PoIP.Inference.Llama;
using PoIP.TestUtils;

namespace PoIP.Inference.Tests.Llama;

/// <summary>The real stories260K model; tests that need it fail with a clear message when it is absent.</summary>
internal static class StoriesModel
{
    public const string Sha256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";

    public static string Path => RepositoryPaths.Stories260K
        ?? throw new InvalidOperationException(
            "stories260K.gguf not found: expected ../shared/models/stories260K.gguf beside the repository root "
            + $"({RepositoryPaths.Root}) or a path in POIP_STORIES260K. These tests need the real model and do not pass without it.");

    public static LlamaEngineOptions Options(int threads = 1, int sequences = 3, int queue = 8) => new()
    {
        ModelPath = Path,
        Threads = threads,
        ContextSize = 256,
        MicroBatchSize = 64,
        MaxPromptTokens = 200,
        MaxOutputTokens = 200,
        MaxConcurrentSequences = sequences,
        MaxQueuedRequests = queue,
        ExpectedModelSha256 = Sha256,
    };

    public static async Task<List<GeneratedToken>> CollectAsync(IInferenceEngine engine, GenerationRequest request, IActivationObserver? observer = null, CancellationToken cancellationToken = default)
    {
        var tokens = new List<GeneratedToken>();
        await foreach (var token in engine.GenerateAsync(request, observer, cancellationToken))
        {
            tokens.Add(token);
        }

        return tokens;
    }
}

/// <summary>One engine on stories260K shared by a test class.</summary>
public sealed class StoriesEngineFixture : IAsyncLifetime
{
    private LlamaInferenceEngine? _engine;

    public LlamaInferenceEngine Engine => _engine ?? throw new InvalidOperationException("engine not started");

    public async Task InitializeAsync() => _engine = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options());

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }
}

/// <summary>Records everything an engine reports.</summary>
internal sealed class RecordingObserver : IActivationObserver
{
    public int PromptCount { get; private set; } = -1;

    public float[]? PrefillHidden { get; private set; }

    public List<(int Index, int Token, float[] Hidden, float[] Logits)> Tokens { get; } = [];

    public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
    {
        PromptCount = promptTokenCount;
        PrefillHidden = lastHiddenState.ToArray();
    }

    public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits) =>
        Tokens.Add((index, tokenId, hiddenState.ToArray(), logits.ToArray()));
}
