using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;

namespace PoIP.Inference.Tests.Llama;

/// <summary>
/// The llama.cpp engine with every layer offloaded to an NVIDIA GPU. These tests run only where the
/// CUDA backend (LLamaSharp.Backend.Cuda12 0.30.0, referenced with <c>-p:PoIPCuda12=true</c>, see
/// docs/gpu.md) and a GPU are both present; elsewhere they are reported as skipped with the reason.
/// </summary>
public sealed class GpuOffloadTests
{
    /// <summary>Hidden states of GPU and CPU kernels differ by rounding only; bound with wide margin (CPU F16 KV vs F32 was ~1e-3).</summary>
    private const double MaxRelativeL2 = 2e-2;

    private static LlamaEngineOptions GpuOptions(int layers = 999) => StoriesModel.Options(sequences: 1) with { GpuLayers = layers };

    [CudaFact]
    public async Task Load_AllLayersOffloaded_IdentityIsCudaAndGpuListed()
    {
        await using var engine = await LlamaInferenceEngine.LoadAsync(GpuOptions());

        Assert.Equal("cuda", engine.Identity.Backend);
        Assert.Equal("cuda", engine.Native.Backend);
        Assert.Contains(engine.Native.Devices, d => d.StartsWith("CUDA", StringComparison.OrdinalIgnoreCase));
    }

    [CudaFact]
    public async Task Generate_Greedy_SameTokensOnGpuAndCpuLayers()
    {
        var request = (LlamaInferenceEngine e) => new GenerationRequest(e.Tokenize("Once upon a time", true), SamplingParameters.Greedy, 1, 32);
        List<GeneratedToken> cpu, gpu;
        var cpuObserver = new RecordingObserver();
        var gpuObserver = new RecordingObserver();
        await using (var engine = await LlamaInferenceEngine.LoadAsync(GpuOptions(layers: 0)))
        {
            cpu = await StoriesModel.CollectAsync(engine, request(engine), cpuObserver);
        }

        await using (var engine = await LlamaInferenceEngine.LoadAsync(GpuOptions()))
        {
            gpu = await StoriesModel.CollectAsync(engine, request(engine), gpuObserver);
        }

        Assert.Equal(cpu.Select(t => t.TokenId), gpu.Select(t => t.TokenId));
        var comparison = ActivationComparison.Compare(cpuObserver.Tokens, gpuObserver.Tokens);
        Assert.InRange(comparison.MaxRelativeL2, 0, MaxRelativeL2);
    }

    [CudaFact]
    public async Task TeacherForce_OnGpu_AgreesWithGpuDecoding()
    {
        await using var engine = await LlamaInferenceEngine.LoadAsync(GpuOptions());
        var sampling = new SamplingParameters { Temperature = 0.9f, TopK = 40, TopP = 0.95f, MinP = 0.05f };
        var request = new GenerationRequest(engine.Tokenize("The little dog", true), sampling, 7, 64);
        var decoded = new RecordingObserver();
        var tokens = (await StoriesModel.CollectAsync(engine, request, decoded)).Select(t => t.TokenId).ToList();

        var forced = new RecordingObserver();
        await engine.TeacherForceAsync(request.PromptTokens, tokens, forced);

        Assert.Equal(tokens, forced.Tokens.Select(t => t.Token));
        Assert.InRange(ActivationComparison.Compare(decoded.Tokens, forced.Tokens).MaxRelativeL2, 0, MaxRelativeL2);
    }

    [CudaFact]
    public async Task Generate_ConcurrentOnGpu_SameTokensAsSequential()
    {
        await using var engine = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(sequences: 3) with { GpuLayers = 999 });
        var requests = new[] { "Once upon a time", "The cat", "Lily and Ben" }
            .Select(p => new GenerationRequest(engine.Tokenize(p, true), SamplingParameters.Greedy, 1, 24)).ToArray();
        var sequential = new List<List<int>>();
        foreach (var r in requests)
        {
            sequential.Add((await StoriesModel.CollectAsync(engine, r)).Select(t => t.TokenId).ToList());
        }

        var concurrent = await Task.WhenAll(requests.Select(async r => (await StoriesModel.CollectAsync(engine, r)).Select(t => t.TokenId).ToList()));

        Assert.Equal(sequential, concurrent);
    }
}

/// <summary>
/// A fact that runs only with a CUDA backend and an NVIDIA GPU; otherwise it is skipped (never passed)
/// with the missing piece as the reason, visible in the runner's output and in TRX.
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the CUDA backend or the GPU is missing.</summary>
    public CudaFactAttribute()
    {
        if (CudaEnvironment.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Looks for the pieces GPU tests need, without loading any native library.</summary>
internal static class CudaEnvironment
{
    public static string? SkipReason { get; } = Probe();

    private static string? Probe()
    {
        string runtimes = Path.Combine(AppContext.BaseDirectory, "runtimes");
        bool backend = Directory.Exists(runtimes)
            && Directory.EnumerateFiles(runtimes, "*ggml-cuda*", SearchOption.AllDirectories).Any();
        bool gpu = Directory.Exists("/proc/driver/nvidia/gpus") && Directory.EnumerateDirectories("/proc/driver/nvidia/gpus").Any();
        if (!backend && !gpu)
        {
            return "no CUDA backend (LLamaSharp.Backend.Cuda12 not referenced: build with -p:PoIPCuda12=true, see docs/gpu.md) and no NVIDIA GPU (/proc/driver/nvidia/gpus empty)";
        }

        if (!backend)
        {
            return "NVIDIA GPU present but no CUDA backend: LLamaSharp.Backend.Cuda12 is not referenced (build with -p:PoIPCuda12=true, see docs/gpu.md)";
        }

        return gpu ? null : "CUDA backend present but no NVIDIA GPU (/proc/driver/nvidia/gpus empty or absent)";
    }
}
