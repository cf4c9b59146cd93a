using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;

namespace PoIP.Gateway.Tests;

/// <summary>The audit runs after the answer: a slow or silent validator neither delays nor loses it.</summary>
[Collection(GatewayNetworkGroup.Name)]
public sealed class AuditAfterAnswerTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private AskOptions Ask(int tokens, ulong seed = 1) => new(fixture.Model.Id, new SamplingParameters(), seed, tokens, TokenAmount.ParseTokens("0.001").Multiply((ulong)tokens));

    [Fact]
    public async Task AskAsync_SlowValidator_AnswerReturnedBeforeTheAuditThenValid()
    {
        await using var validator = await HeldValidator.StartAsync(fixture);
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory(fixture.Network.NodeAddresses), fund: true, validators: [validator.Address]);

        var answer = await owned.Client.AskAsync("Once upon a time", Ask(8)).WaitAsync(Bound); // returns while the validator holds the audit
        await validator.Entered.Task.WaitAsync(Bound);

        Assert.Equal(8, answer.OutputTokens.Count);
        Assert.False(answer.Audit.IsCompleted);
        validator.Release.SetResult();
        var audit = await answer.Audit.WaitAsync(Bound);
        Assert.Equal(ClientAuditStatus.Valid, audit.Status);
        Assert.Equal(validator.Id, audit.Verdict!.Signer);
        Assert.Equal(answer.Receipt.Hash, audit.Verdict.Message.ReceiptId.Digest);
    }

    [Fact]
    public async Task AskAsync_ValidatorNeverAnswers_AnswerKeptAndAuditPendingAfterTimeout()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var validator = await HeldValidator.StartAsync(fixture);
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory(fixture.Network.NodeAddresses), fund: true, validators: [validator.Address], auditTimeout: TimeSpan.FromSeconds(20), time: time);

        var answer = await owned.Client.AskAsync("Once upon a time", Ask(6)).WaitAsync(Bound);
        await validator.Entered.Task.WaitAsync(Bound);
        Assert.False(answer.Audit.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(21)); // past the audit timeout; the validator still holds it
        var audit = await answer.Audit.WaitAsync(Bound);

        Assert.Equal(6, answer.OutputTokens.Count);
        Assert.Equal(ClientAuditStatus.Pending, audit.Status);
        Assert.False(audit.IsFinal);
        Assert.Contains("no reply within 20 s", audit.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatStream_SlowValidator_FinalChunkNotHeldBackAndReceiptShowsVerdictLater()
    {
        await using var validator = await HeldValidator.StartAsync(fixture);
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory(fixture.Network.NodeAddresses), fund: true, validators: [validator.Address]);
        var address = await fixture.StartGatewayAsync(owned.Client, _ => { });
        using var http = new HttpClient { BaseAddress = address, Timeout = Bound };

        using var response = await http.PostAsync("v1/chat/completions", new StringContent($$"""{"model":"{{fixture.Model.Name}}","messages":[{"role":"user","content":"Once upon a time"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":8,"seed":5}""", Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync().WaitAsync(Bound); // the whole stream, [DONE] included, while the validator holds the audit
        await validator.Entered.Task.WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string[] events = [.. body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..])];
        Assert.Equal("[DONE]", events[^1]);
        using var last = JsonDocument.Parse(events[^2]);
        var poip = last.RootElement.GetProperty("poip");
        Assert.Equal("pending", poip.GetProperty("audit").GetString());
        string receiptUrl = poip.GetProperty("receipt_url").GetString()!.TrimStart('/');

        using (var before = await http.GetAsync(receiptUrl + "?wait=0"))
        {
            Assert.Equal("pending", before.Headers.GetValues("x-poip-audit").Single());
        }

        using (var bad = await http.GetAsync(receiptUrl + "?wait=61"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            using var error = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
            Assert.Equal("wait", error.RootElement.GetProperty("error").GetProperty("param").GetString());
        }

        validator.Release.SetResult();
        using var after = await http.GetAsync(receiptUrl + "?wait=60");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("valid", after.Headers.GetValues("x-poip-audit").Single());
    }

    [Fact]
    public async Task FinalAudit_ValidatorDownThenBack_PendingFirstThenRetriedAfterTheDelayAndValid()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var validator = await HeldValidator.StartAsync(fixture);
        validator.Release.TrySetResult();
        validator.RefuseFirst = 1; // down for the first submission, back for the next
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory(fixture.Network.NodeAddresses), fund: true, validators: [validator.Address], time: time, auditRetryDelay: TimeSpan.FromSeconds(10));

        var answer = await owned.Client.AskAsync("Once upon a time", new AskOptions(fixture.Model.Id, new SamplingParameters(), 8, 6, TokenAmount.ParseTokens("0.006")));
        var first = await answer.Audit.WaitAsync(Bound);

        Assert.Equal(ClientAuditStatus.Pending, first.Status);
        Assert.False(answer.FinalAudit.IsCompleted); // waiting for the retry, on the client's clock
        Assert.Equal(1, validator.Submissions);
        time.Advance(TimeSpan.FromSeconds(10));
        var final = await answer.FinalAudit.WaitAsync(Bound);
        Assert.Equal(ClientAuditStatus.Valid, final.Status);
        Assert.Equal(2, validator.Submissions);
    }

    [Fact]
    public async Task FinalAudit_ValidatorNeverBack_RetriedBoundedTimesThenPending()
    {
        await using var validator = await HeldValidator.StartAsync(fixture);
        validator.Release.TrySetResult();
        validator.RefuseFirst = int.MaxValue;
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory(fixture.Network.NodeAddresses), fund: true, validators: [validator.Address], auditRetries: 2, auditRetryDelay: TimeSpan.FromMilliseconds(1));

        var answer = await owned.Client.AskAsync("Once upon a time", new AskOptions(fixture.Model.Id, new SamplingParameters(), 9, 4, TokenAmount.ParseTokens("0.004")));
        var final = await answer.FinalAudit.WaitAsync(Bound);

        Assert.Equal(ClientAuditStatus.Pending, final.Status);
        Assert.Contains("still pending after 2 retries", final.Detail, StringComparison.Ordinal);
        Assert.Equal(3, validator.Submissions); // the first try and two retries, no more
        Assert.Equal(4, answer.OutputTokens.Count); // the answer was kept throughout
    }

    [Fact]
    public async Task Receipts_ValidatorDownAtFirst_RetriedAuditShownAsFinalValid()
    {
        await using var validator = await HeldValidator.StartAsync(fixture);
        validator.Release.TrySetResult();
        validator.RefuseFirst = 1;
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory(fixture.Network.NodeAddresses), fund: true, validators: [validator.Address], auditRetryDelay: TimeSpan.FromMilliseconds(1));
        var address = await fixture.StartGatewayAsync(owned.Client, _ => { });
        using var http = new HttpClient { BaseAddress = address, Timeout = Bound };

        using var response = await http.PostAsync("v1/completions", new StringContent($$"""{"model":"{{fixture.Model.Name}}","prompt":"Once upon a time","max_tokens":5,"seed":6}""", Encoding.UTF8, "application/json"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string receiptUrl = doc.RootElement.GetProperty("poip").GetProperty("receipt_url").GetString()!.TrimStart('/');
        using var receipt = await http.GetAsync(receiptUrl + "?wait=60"); // waits for the final state, not the first try's

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("valid", receipt.Headers.GetValues("x-poip-audit").Single());
        Assert.Equal(2, validator.Submissions);
    }
}
