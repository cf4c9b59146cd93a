using PoIP.Core.Engine;
using PoIP.Inference.Managed;
using PoIP.Testing;

namespace PoIP.Inference.Tests.Managed;

/// <summary>The managed engine passes the Inference Engine Standard conformance suite on stories260K.</summary>
public sealed class ManagedLlamaEngineConformanceTests : InferenceEngineConformanceTests
{
    protected override string ModelPath => Stories.Path;

    // The managed engine computes prefill and decode one position at a time with the same code: bit-identical.
    protected override double HiddenStateTolerance => 0.0;

    protected override async Task<IInferenceEngine> CreateEngineAsync(string modelPath) => await ManagedLlamaEngine.LoadAsync(modelPath);
}
