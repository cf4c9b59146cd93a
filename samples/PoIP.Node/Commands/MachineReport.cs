using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace PoIP.Node.Commands;

/// <summary>Facts about this machine that decide which engine variant runs and how fast.</summary>
internal static class MachineReport
{
    public static IReadOnlyList<(string Name, string Value)> Collect()
    {
        var simd = new List<string>();
        if (Avx512F.IsSupported) simd.Add("avx512f");
        if (Avx2.IsSupported) simd.Add("avx2");
        if (Avx.IsSupported) simd.Add("avx");
        if (Fma.IsSupported) simd.Add("fma");
        if (Aes.IsSupported) simd.Add("aes-ni");
        var memory = GC.GetGCMemoryInfo();
        return
        [
            ("os", RuntimeInformation.OSDescription),
            ("architecture", RuntimeInformation.OSArchitecture.ToString()),
            ("runtime", RuntimeInformation.FrameworkDescription),
            ("logical cores", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("memory available to .NET", $"{memory.TotalAvailableMemoryBytes / (1024 * 1024)} MiB"),
            ("simd", simd.Count == 0 ? "none" : string.Join(' ', simd)),
        ];
    }
}
