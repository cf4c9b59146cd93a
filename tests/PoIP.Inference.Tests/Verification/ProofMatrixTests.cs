using PoIP.Core.Proofs;
using PoIP.Inference.Commitments;
using PoIP.Inference.Verification;
using PoIP.Testing.Verification;

namespace PoIP.Inference.Tests.Verification;

public sealed class ProofMatrixTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly Lazy<Task<ProofMatrixReport>> Report = new(async () =>
    {
        var honest = ProofFixture.Honest();
        var engines = new ProofMatrixEngines(honest, ProofFixture.OtherModel(), ProofFixture.Quantised(), ProofFixture.CheapSmall());
        return await new ProofMatrix(ProofFixture.Verifier(honest), engines, ProofFixture.Time()).RunAsync(ProofFixture.Cases());
    });

    [Fact]
    public async Task Run_HonestReceipts_AllPass()
    {
        var report = await Report.Value;
        output.WriteLine(report.ToString());
        Assert.True(report.Honest.Caught == 0, report.ToString() + string.Join("\n", report.Failures));
        Assert.Equal(ProofFixture.Cases().Count, report.Honest.Missed);
    }

    [Theory]
    [InlineData(ProofAttack.OtherModel, FraudReason.ActivationMismatch)]
    [InlineData(ProofAttack.CheaperQuantisation, FraudReason.ActivationMismatch)]
    [InlineData(ProofAttack.PromptChangedOneToken, FraudReason.ActivationMismatch)]
    [InlineData(ProofAttack.InputRootMismatch, FraudReason.InputMismatch)]
    [InlineData(ProofAttack.OutputChangedStart, FraudReason.SamplingMismatch)]
    [InlineData(ProofAttack.OutputChangedMiddle, FraudReason.SamplingMismatch)]
    [InlineData(ProofAttack.OutputChangedEnd, FraudReason.SamplingMismatch)]
    [InlineData(ProofAttack.TruncatedOutput, FraudReason.TerminationMismatch)]
    [InlineData(ProofAttack.ExtendedOutput, FraudReason.TerminationMismatch)]
    [InlineData(ProofAttack.OtherSeed, FraudReason.SamplingMismatch)]
    [InlineData(ProofAttack.OtherTemperature, FraudReason.SamplingMismatch)]
    [InlineData(ProofAttack.CheapModelDecode, FraudReason.SamplingMismatch)]
    [InlineData(ProofAttack.ReplayedReceipt, FraudReason.RequestMismatch)]
    public async Task Run_Attack_EveryApplicableCaseCaughtForTheExpectedReason(ProofAttack attack, FraudReason expected)
    {
        var report = await Report.Value;
        var row = report[attack];
        Assert.True(row.Cases > 0, $"{attack}: no applicable case");
        Assert.True(row.Missed == 0, report.ToString() + string.Join("\n", report.Failures));
        Assert.True(row.Reasons.GetValueOrDefault(expected) > 0, report.ToString());
    }

    [Fact]
    public async Task Run_WorstChunks_SeparateHonestFromQuantisationAndOtherModel()
    {
        var report = await Report.Value;
        Assert.Equal(report.Honest.Cases, report.Honest.WorstChunks.Count);
        double honestMax = report.Honest.WorstTrimmedMeanRange!.Value.Max;
        Assert.True(honestMax < CommitmentThresholds.Default.MaxTrimmedMeanRelativeError, report.ToString());
        Assert.True(report[ProofAttack.CheaperQuantisation].WorstTrimmedMeanRange!.Value.Min > honestMax, report.ToString());
        Assert.True(report[ProofAttack.OtherModel].WorstTrimmedMeanRange!.Value.Min > honestMax, report.ToString());
    }

    [Fact]
    public async Task Run_OtherSeedUnderGreedy_IsNotApplicable()
    {
        var report = await Report.Value;
        Assert.True(report[ProofAttack.OtherSeed].NotApplicable >= 1, report.ToString());
    }

    [Fact]
    public async Task Run_LastPositionAggregation_HonestPassAndQuantisationCaught()
    {
        var honest = ProofFixture.Honest();
        var verifier = ProofFixture.Verifier(honest, ProofFixture.Options() with { Aggregation = CommitmentAggregation.LastPosition });
        var engines = new ProofMatrixEngines(honest, CheaperQuantisation: ProofFixture.Quantised());
        var report = await new ProofMatrix(verifier, engines, ProofFixture.Time(), CommitmentAggregation.LastPosition).RunAsync(ProofFixture.Cases().Take(2).ToArray());
        Assert.Equal((0, 2), (report.Honest.Caught, report.Honest.Missed));
        Assert.Equal(2, report[ProofAttack.CheaperQuantisation].Caught);
    }

    [Fact]
    public async Task Run_MissingEngines_CountedNotApplicable()
    {
        var honest = ProofFixture.Honest();
        var report = await new ProofMatrix(ProofFixture.Verifier(honest), new ProofMatrixEngines(honest), ProofFixture.Time()).RunAsync(ProofFixture.Cases().Take(1).ToArray());
        Assert.Equal(1, report[ProofAttack.OtherModel].NotApplicable);
        Assert.Equal(1, report[ProofAttack.CheapModelDecode].NotApplicable);
        Assert.Equal(0, report.Honest.Caught);
    }
}
