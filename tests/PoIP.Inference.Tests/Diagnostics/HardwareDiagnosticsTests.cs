using PoIP.Inference.Diagnostics;
using PoIP.Inference.Llama;
using PoIP.Inference.Tests.Llama;

namespace PoIP.Inference.Tests.Diagnostics;

public sealed class HardwareDiagnosticsTests
{
    [Fact]
    public async Task Collect_AfterEngineLoad_ReportsCpuAndNativeLibrary()
    {
        await using var engine = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(sequences: 1));
        var report = HardwareDiagnostics.Collect();
        Assert.True(report.LogicalCores >= 1);
        Assert.True(report.TotalMemoryBytes > 0);
        Assert.False(string.IsNullOrWhiteSpace(report.CpuModel));
        Assert.NotNull(report.Native);
        Assert.Equal(engine.Identity.CpuVariant, report.Native.CpuVariant);
        Assert.Equal("c0c7e147", report.Native.Build);
    }

    [Fact]
    public async Task MeasureSpeed_Stories260K_CountsTokens()
    {
        await using var engine = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(sequences: 1));
        var speed = await HardwareDiagnostics.MeasureSpeedAsync(engine, promptTokens: 32, decodeTokens: 16);
        Assert.Equal(32, speed.PromptTokens);
        Assert.Equal(15, speed.DecodeTokens);
        Assert.True(speed.PrefillTokensPerSecond > 0);
        Assert.True(speed.DecodeTokensPerSecond > 0);
    }
}
