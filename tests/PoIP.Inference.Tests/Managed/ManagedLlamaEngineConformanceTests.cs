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

/// <summary>The managed engine passes the conformance suite on a synthesized F16 grouped-query-attention model too.</summary>
public sealed class ManagedLlamaEngineSynthesizedConformanceTests : InferenceEngineConformanceTests
{
    private static readonly Lazy<string> Model = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"poip-conformance-{Environment.ProcessId}-f16-gqa.gguf");
        PoIP.Inference.Gguf.LlamaModelSynthesizer.Write(
            new PoIP.Inference.Gguf.SynthesisOptions { Dimension = 64, Layers = 2, Heads = 4, KvHeads = 2, FeedForward = 128, Vocabulary = 400, Type = PoIP.Inference.Gguf.SynthesisType.F16, Seed = 21 },
            path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return path;
    });

    protected override string ModelPath => Model.Value;

    protected override double HiddenStateTolerance => 0.0;

    protected override async Task<IInferenceEngine> CreateEngineAsync(string modelPath) => await ManagedLlamaEngine.LoadAsync(modelPath);
}
