using PoIP.Inference.Gguf;
using PoIP.Inference.Verification;
using PoIP.Testing.Verification;

namespace PoIP.Inference.Tests.Verification;

public sealed class VerifierCalibrationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-cal-").FullName;

    [Theory]
    [InlineData(SynthesisType.F32)]
    [InlineData(SynthesisType.F16)]
    [InlineData(SynthesisType.Q8_0)]
    [InlineData(SynthesisType.Q4_K_M)]
    public void WeightTypeOf_SynthesizedModel_ReturnsItsType(SynthesisType type)
    {
        string path = Path.Combine(_directory, type + ".gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 256, Layers = 1, Heads = 4, FeedForward = 256, Vocabulary = 300, Type = type }, path);

        Assert.Equal(type, VerifierCalibration.WeightTypeOf(path));
        var options = VerifierCalibration.ForModel(path);
        var calibrated = RealProofMatrix.CalibratedOptions(type);
        Assert.Equal(calibrated.Thresholds, options.Thresholds);
        Assert.Equal(calibrated.SamplingSlack, options.SamplingSlack);
        Assert.Equal(calibrated.MaxSlackFraction, options.MaxSlackFraction);
        Assert.Equal(new ReexecutionVerifierOptions().EngineCompatibility, options.EngineCompatibility); // the strict default rule, not the matrix's
    }

    [Fact]
    public void WeightTypeOf_NotGguf_TypedError()
    {
        string path = Path.Combine(_directory, "junk.gguf");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Throws<Core.Errors.PoIPDecodeException>(() => VerifierCalibration.WeightTypeOf(path));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
