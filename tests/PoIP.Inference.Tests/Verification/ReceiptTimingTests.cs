using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Inference.Verification;

namespace PoIP.Inference.Tests.Verification;

/// <summary>A receipt's timings are measured on the TimeProvider the issuer is given (no Stopwatch in library code).</summary>
public sealed class ReceiptTimingTests(StoriesReceiptFixture fixture) : IClassFixture<StoriesReceiptFixture>
{
    [Fact]
    public async Task IssueAsync_FakeTimeProviderThatNeverAdvances_ReportsZeroPrefillAndDecode()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var request = SignedMessage.Create(fixture.Client, InferenceRequest.ForPrompt(StoriesReceiptFixture.Prompt, fixture.Engine.Model.Id, fixture.Client.PeerId, new SamplingParameters(), 5, 12, TokenAmount.FromTokens(1), 3, clock.GetUtcNow().AddHours(1)));

        var file = await ReceiptIssuer.IssueAsync(fixture.Engine, fixture.Node, request, StoriesReceiptFixture.Prompt, TokenAmount.Zero, clock);

        var timings = file.Receipt.Message.Timings;
        Assert.Equal(12, timings.OutputTokens);
        Assert.Equal(TimeSpan.Zero, timings.Prefill);
        Assert.Equal(TimeSpan.Zero, timings.Decode);
    }
}
