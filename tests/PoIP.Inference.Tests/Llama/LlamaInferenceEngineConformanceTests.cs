using PoIP.Core.Engine;
using PoIP.Inference.Llama;
using PoIP.Testing;

namespace PoIP.Inference.Tests.Llama;

/// <summary>The llama.cpp engine passes the Inference Engine Standard conformance suite on stories260K.</summary>
public sealed class LlamaInferenceEngineConformanceTests : InferenceEngineConformanceTests
{
    protected override string ModelPath => StoriesModel.Path;

    // Teacher forcing vs decoding with the default f16 KV cache: relative L2 of the hidden state up to
    // 1.4e-3 measured on stories260K (docs/engine-standard.md); 1e-2 leaves a margin without hiding a real divergence.
    protected override double HiddenStateTolerance => 1e-2;

    protected override async Task<IInferenceEngine> CreateEngineAsync(string modelPath) =>
        await LlamaInferenceEngine.LoadAsync(StoriesModel.Options() with { ModelPath = modelPath });
}
