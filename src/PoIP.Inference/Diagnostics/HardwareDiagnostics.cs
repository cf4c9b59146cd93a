using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;

namespace PoIP.Inference.Diagnostics;

/// <summary>What this machine offers an inference engine.</summary>
/// <param name="Os">Operating system.</param>
/// <param name="Architecture">Process architecture.</param>
/// <param name="CpuModel">CPU model name (from /proc/cpuinfo on Linux), or "unknown".</param>
/// <param name="LogicalCores">Logical cores visible to the process.</param>
/// <param name="SimdFlags">SIMD extensions the CPU supports (as .NET sees them).</param>
/// <param name="TotalMemoryBytes">Memory available to the process.</param>
/// <param name="Native">The llama.cpp library loaded, or null before any engine started.</param>
/// <param name="Gpus">GPUs found (ggml devices other than the CPU, and NVIDIA driver entries), empty when none.</param>
public sealed record DeviceReport(
    string Os,
    string Architecture,
    string CpuModel,
    int LogicalCores,
    IReadOnlyList<string> SimdFlags,
    long TotalMemoryBytes,
    NativeLibraryInfo? Native,
    IReadOnlyList<string> Gpus);

/// <summary>A short speed measurement of an engine.</summary>
/// <param name="PromptTokens">Prompt length used.</param>
/// <param name="PrefillTokensPerSecond">Prompt tokens per second (time to the first token).</param>
/// <param name="DecodeTokens">Tokens decoded after the first.</param>
/// <param name="DecodeTokensPerSecond">Decode tokens per second.</param>
public sealed record EngineSpeed(int PromptTokens, double PrefillTokensPerSecond, int DecodeTokens, double DecodeTokensPerSecond);

/// <summary>Hardware facts and a short benchmark, for <c>poip diagnose</c> and for hosts.</summary>
public static class HardwareDiagnostics
{
    /// <summary>Describes this machine (and the llama.cpp library when one is loaded).</summary>
    public static DeviceReport Collect()
    {
        var simd = new List<string>();
        if (Avx512F.IsSupported)
        {
            simd.Add("avx512f");
        }

        if (Avx512BW.IsSupported)
        {
            simd.Add("avx512bw");
        }

        if (Avx2.IsSupported)
        {
            simd.Add("avx2");
        }

        if (Avx.IsSupported)
        {
            simd.Add("avx");
        }

        if (Fma.IsSupported)
        {
            simd.Add("fma");
        }

        if (Sse42.IsSupported)
        {
            simd.Add("sse4.2");
        }

        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)
        {
            simd.Add("neon");
        }

        var native = NativeBackend.Loaded;
        var gpus = new List<string>();
        if (native is not null)
        {
            gpus.AddRange(native.Devices.Where(d => !d.StartsWith("CPU", StringComparison.OrdinalIgnoreCase)));
        }

        gpus.AddRange(NvidiaDriverGpus());
        return new DeviceReport(
            RuntimeInformation.OSDescription,
            RuntimeInformation.ProcessArchitecture.ToString(),
            CpuModel(),
            Environment.ProcessorCount,
            simd,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
            native,
            gpus.Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// Measures prefill (a prompt of <paramref name="promptTokens"/> tokens) and greedy decode
    /// (<paramref name="decodeTokens"/> tokens) once, after one short warm-up generation.
    /// </summary>
    /// <exception cref="PoIP.Core.Errors.EngineException">The engine refused the request (e.g. limits too small).</exception>
    public static async Task<EngineSpeed> MeasureSpeedAsync(IInferenceEngine engine, int promptTokens = 64, int decodeTokens = 64, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(decodeTokens, 2);
        var filler = engine.Tokenize(" Once upon a time, there was a little girl who liked to play in the park with her dog.", addBeginOfSequence: false);
        var prompt = new List<int>(promptTokens);
        if (engine.Model.BeginOfSequenceToken >= 0)
        {
            prompt.Add(engine.Model.BeginOfSequenceToken);
        }

        while (prompt.Count < promptTokens)
        {
            prompt.Add(filler[prompt.Count % filler.Count]);
        }

        // A sampler that never stops early on EOS would need model knowledge; greedy with a generous budget is enough.
        var warmup = new GenerationRequest(prompt.GetRange(0, 2), SamplingParameters.Greedy, 1, 2);
        await foreach (var _ in engine.GenerateAsync(warmup, null, cancellationToken).ConfigureAwait(false))
        {
        }

        var request = new GenerationRequest(prompt, SamplingParameters.Greedy, 1, decodeTokens);
        long started = TimeProvider.System.GetTimestamp(); // a speed measurement: real time
        double first = 0;
        int count = 0;
        await foreach (var _ in engine.GenerateAsync(request, null, cancellationToken).ConfigureAwait(false))
        {
            if (count++ == 0)
            {
                first = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
            }
        }

        double total = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
        return new EngineSpeed(
            prompt.Count,
            prompt.Count / Math.Max(first, 1e-9),
            count - 1,
            count > 1 ? (count - 1) / Math.Max(total - first, 1e-9) : 0);
    }

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal) || line.StartsWith("Model", StringComparison.Ordinal))
                    {
                        int colon = line.IndexOf(':', StringComparison.Ordinal);
                        if (colon > 0)
                        {
                            return line[(colon + 1)..].Trim();
                        }
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return "unknown";
    }

    private static IEnumerable<string> NvidiaDriverGpus()
    {
        const string root = "/proc/driver/nvidia/gpus";
        if (!Directory.Exists(root))
        {
            yield break;
        }

        foreach (string directory in Directory.EnumerateDirectories(root).Take(16))
        {
            string info = Path.Combine(directory, "information");
            string? model = null;
            try
            {
                model = File.ReadLines(info).FirstOrDefault(l => l.StartsWith("Model:", StringComparison.Ordinal))?[6..].Trim();
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            if (model is not null)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"{model} (nvidia driver, {Path.GetFileName(directory)})");
            }
        }
    }
}
