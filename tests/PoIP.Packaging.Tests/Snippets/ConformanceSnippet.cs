using PoIP.Core.Engine;
using PoIP.Inference.Llama;
using PoIP.Testing;
using PoIP.TestUtils;

namespace PoIP.Packaging.Tests.Snippets;

// begin-snippet: testing
// xunit runs the whole Inference Engine Standard suite against the adapter this class returns.
public sealed class MyEngineConformanceTests : InferenceEngineConformanceTests
{
    protected override string ModelPath => RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found");

    // Largest relative L2 distance between decoding's and teacher forcing's hidden states.
    protected override double HiddenStateTolerance => 1e-2;

    protected override async Task<IInferenceEngine> CreateEngineAsync(string modelPath) =>
        await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions
        {
            ModelPath = modelPath,
            Threads = 1,
            ContextSize = 512,
            MaxPromptTokens = 256,
            MaxOutputTokens = 200,
            MaxConcurrentSequences = 3,
        });
}
// end-snippet
