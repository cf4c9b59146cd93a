using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Hosting.Client;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
using PoIP.Network;
using PoIP.Network.Addressing;

namespace PoIP.Gateway.Tests;

/// <summary>The wire format, errors, receipts, back-pressure and cancellation, checked on raw HTTP.</summary>
[Collection(GatewayNetworkGroup.Name)]
public sealed class RawHttpTests(GatewayFixture fixture)
{
    private HttpClient Http(Uri? address = null) => new() { BaseAddress = address ?? fixture.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<List<string>> ReadEventsAsync(HttpResponseMessage response)
    {
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            Assert.StartsWith("data: ", line, StringComparison.Ordinal); // no custom "event:" lines
            events.Add(line["data: ".Length..]);
        }

        return events;
    }

    [Fact]
    public async Task ChatStream_WithUsage_UsageChunkHasEmptyChoicesAndCarriesPoIP()
    {
        using var http = Http();
        using var response = await http.PostAsync("v1/chat/completions", Json($$"""{"model":"{{fixture.Model.Name}}","messages":[{"role":"user","content":"Once upon a time"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":8,"seed":1}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await ReadEventsAsync(response);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(8, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.True(usage.TryGetProperty("poip", out var poip));
        Assert.Equal(response.Headers.GetValues("x-poip-request-id").Single(), poip.GetProperty("request_id").GetString());
        Assert.Equal("length", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.All(chunks[..^1], c => Assert.False(c.TryGetProperty("poip", out _)));
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("error", out _)));
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
    }

    [Fact]
    public async Task TextCompletionStream_WithoutUsage_PoIPRidesOnFinishChunk()
    {
        using var http = Http();
        using var response = await http.PostAsync("v1/completions", Json($$"""{"model":"{{fixture.Model.Id}}","prompt":"Once upon a time","stream":true,"max_tokens":6,"seed":2}"""));

        var events = await ReadEventsAsync(response);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        var finish = chunks[^1];
        Assert.Equal("length", finish.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.True(finish.TryGetProperty("poip", out _));
        Assert.False(finish.TryGetProperty("usage", out _));
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        string text = string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString()));

        using var whole = await http.PostAsync("v1/completions", Json($$"""{"model":"{{fixture.Model.Name}}","prompt":"Once upon a time","max_tokens":6,"seed":2}"""));
        using var doc = JsonDocument.Parse(await whole.Content.ReadAsStringAsync());
        Assert.Equal(text, doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Receipt_OfAnAnswer_IsTheVerifyFormatAndReexecutesValid()
    {
        using var http = Http();
        using var response = await http.PostAsync("v1/chat/completions", Json($$"""{"model":"{{fixture.Model.Name}}","messages":[{"role":"system","content":"Tell a story."},{"role":"user","content":"Lily"}],"max_tokens":10,"seed":4}"""));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string receiptId = doc.RootElement.GetProperty("poip").GetProperty("receipt_id").GetString()!;

        using var receipt = await http.GetAsync("v1/receipts/" + receiptId + "?wait=60"); // the audit runs after the answer
        Assert.Equal(HttpStatusCode.OK, receipt.StatusCode);
        Assert.Equal("valid", receipt.Headers.GetValues("x-poip-audit").Single());
        var file = ReceiptFile.Parse(await receipt.Content.ReadAsByteArrayAsync());
        Assert.Equal("System: Tell a story.\nUser: Lily\nAssistant:", file.Prompt); // the plain fallback, as signed
        Assert.Equal(receiptId, file.Receipt.Hash.ToString());

        await using var engine = await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = GatewayFixture.Stories, Threads = 1, ContextSize = 512, MaxOutputTokens = GatewayFixture.NodeMaxTokens, MaxPromptTokens = 256 });
        var verdict = await new ReexecutionVerifier(engine, new ReexecutionVerifierOptions()).VerifyAsync(file.ToVerificationCase());
        Assert.Equal(VerdictOutcome.Valid, verdict.Outcome);

        using var unknown = await http.GetAsync("v1/receipts/" + new string('0', 64));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Theory]
    [InlineData("{not json", 400, null)]
    [InlineData("[1,2]", 400, null)]
    [InlineData("""{"messages":[{"role":"user","content":"x"}]}""", 400, "model")]
    [InlineData("""{"model":"MODEL","messages":"hello"}""", 400, "messages")]
    [InlineData("""{"model":"MODEL","messages":[]}""", 400, "messages")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"wizard","content":"x"}]}""", 400, "messages[0].role")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"tool","content":"x"}]}""", 400, "messages[0].role")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":42}]}""", 400, "messages[0].content")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":[{"type":"image_url"}]}]}""", 400, "messages[0].content[0].type")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", 400, "max_tokens")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"max_tokens":-3}""", 400, "max_tokens")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"max_completion_tokens":100000}""", 400, "max_completion_tokens")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"max_tokens":"ten"}""", 400, "max_tokens")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"n":2}""", 400, "n")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"temperature":"hot"}""", 400, "temperature")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"temperature":5}""", 400, "temperature")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"top_p":0}""", 400, "top_p")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"seed":1.5}""", 400, "seed")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"stop":[1]}""", 400, "stop[0]")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"stream":"yes"}""", 400, "stream")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"logprobs":true}""", 400, "logprobs")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"x"}],"top_k":-1}""", 400, "top_k")]
    [InlineData("""{"model":"other","messages":[{"role":"user","content":"x"}]}""", 404, "model")]
    [InlineData("""{"model":"MODEL","messages":[{"role":"user","content":"1"},{"role":"user","content":"2"},{"role":"user","content":"3"},{"role":"user","content":"4"},{"role":"user","content":"5"},{"role":"user","content":"6"},{"role":"user","content":"7"},{"role":"user","content":"8"},{"role":"user","content":"9"}]}""", 400, "messages")]
    public async Task ChatCompletions_BadInput_OpenAIErrorNamingTheField(string body, int status, string? param)
    {
        using var http = Http();
        using var response = await http.PostAsync("v1/chat/completions", Json(body.Replace("MODEL", fixture.Model.Name, StringComparison.Ordinal)));

        Assert.Equal(status, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("code").GetString()));
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task ChatCompletions_OversizedBody_413()
    {
        using var http = Http();
        string big = new('a', 70 * 1024);
        using var response = await http.PostAsync("v1/chat/completions", Json($$"""{"model":"{{fixture.Model.Name}}","messages":[{"role":"user","content":"{{big}}"}]}"""));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("request_too_large", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task ChatCompletions_ChunkedBodyWithoutLengthOverLimit_413()
    {
        using var http = Http();
        string big = new('a', 70 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json($$"""{"model":"{{fixture.Model.Name}}","messages":[{"role":"user","content":"{{big}}"}]}""") };
        request.Headers.TransferEncodingChunked = true; // no Content-Length: the limit must hold while reading
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("request_too_large", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Completions_ChunkedBodyLargerThanFirstBuffer_ReadWholeAndAnswered()
    {
        using var http = Http();
        string padding = new('p', 20 * 1024); // past the first 4 KiB buffer of a body without a length: it must grow, not cut
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = Json($$"""{"user":"{{padding}}","model":"{{fixture.Model.Name}}","prompt":"Once","max_tokens":3,"seed":4}""") };
        request.Headers.TransferEncodingChunked = true;
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task ModelsNodesHealthMetrics_Answer()
    {
        using var http = Http();
        using var models = JsonDocument.Parse(await http.GetStringAsync("v1/models"));
        Assert.Equal(fixture.Model.Name, models.RootElement.GetProperty("data")[0].GetProperty("id").GetString());

        using var answer = JsonDocument.Parse(await (await http.PostAsync("v1/completions", Json($$"""{"model":"{{fixture.Model.Name}}","prompt":"Once","max_tokens":4,"seed":1}"""))).Content.ReadAsStringAsync());
        using var audited = await http.GetAsync("v1/receipts/" + answer.RootElement.GetProperty("poip").GetProperty("receipt_id").GetString() + "?wait=60"); // counted once the audit ended
        Assert.Equal("valid", audited.Headers.GetValues("x-poip-audit").Single());
        using var nodes = JsonDocument.Parse(await http.GetStringAsync("v1/nodes"));
        Assert.Equal(3, nodes.RootElement.GetProperty("data").GetArrayLength());
        Assert.All(nodes.RootElement.GetProperty("data").EnumerateArray(), n => Assert.Equal("closed", n.GetProperty("circuit").GetString()));
        Assert.Contains(nodes.RootElement.GetProperty("data").EnumerateArray(), n => n.GetProperty("latency_ms").ValueKind == JsonValueKind.Number);

        using var health = await http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        string metrics = await http.GetStringAsync("metrics");
        Assert.Contains("gen_ai_server_request_duration_seconds", metrics, StringComparison.Ordinal);
        Assert.Contains("gen_ai_server_time_to_first_token_seconds", metrics, StringComparison.Ordinal);
        Assert.Contains("gen_ai_client_token_usage", metrics, StringComparison.Ordinal);
        Assert.Contains("poip_gateway_audits", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeys_MissingOrWrong_401_Right_200()
    {
        var address = await fixture.StartGatewayAsync(fixture.Network.Client, o => o.ApiKeys.Add("sk-test-12345"));
        using var http = Http(address);

        using var missing = await http.GetAsync("v1/models");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "v1/models") { Headers = { { "Authorization", "Bearer sk-wrong-000" } } };
        using var wrongResponse = await http.SendAsync(wrong);
        using var right = new HttpRequestMessage(HttpMethod.Get, "v1/models") { Headers = { { "Authorization", "Bearer sk-test-12345" } } };
        using var rightResponse = await http.SendAsync(right);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rightResponse.StatusCode);
    }

    [Fact]
    public async Task QueueFull_SecondRequest_429WithRetryAfter()
    {
        var directory = new GatedDirectory();
        await using var owned = await ClientOverAsync(directory);
        var address = await fixture.StartGatewayAsync(owned.Client, o =>
        {
            o.MaxConcurrentRequests = 1;
            o.MaxQueuedRequests = 0;
        });
        using var http = Http(address);
        var first = http.PostAsync("v1/completions", Json($$"""{"model":"{{fixture.Model.Name}}","prompt":"Once","max_tokens":2}"""));
        await directory.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the first request holds the only slot

        using var second = await http.PostAsync("v1/completions", Json($$"""{"model":"{{fixture.Model.Name}}","prompt":"Once","max_tokens":2}"""));
        directory.Release.SetResult();
        using var firstResponse = await first;

        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.Equal("1", second.Headers.GetValues("Retry-After").Single());
        using var doc = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        Assert.Equal("queue_full", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, firstResponse.StatusCode); // its directory then knew no node
    }

    [Fact]
    public async Task NoNodeAvailable_503WithRetryAfter()
    {
        await using var owned = await ClientOverAsync(new EmptyDirectory());
        var address = await fixture.StartGatewayAsync(owned.Client, _ => { });
        using var http = Http(address);

        using var response = await http.PostAsync("v1/chat/completions", Json($$"""{"model":"{{fixture.Model.Name}}","messages":[{"role":"user","content":"x"}],"stream":true}"""));
        using var health = await http.GetAsync("health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.Contains("Retry-After"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("no_node_available", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
    }

    [Fact]
    public async Task DependencyTimesOut_503WithRetryAfterNot500()
    {
        // poip soak on the DHT + chain wiring: the chain confirmed escrows slower than the call timeout and every such
        // request came back as HTTP 500 internal_error, though it is transient and safe to retry.
        await using var owned = await ClientOverAsync(new TimingOutDirectory());
        var address = await fixture.StartGatewayAsync(owned.Client, _ => { });
        using var http = Http(address);

        using var response = await http.PostAsync("v1/chat/completions", Json($$"""{"model":"{{fixture.Model.Name}}","messages":[{"role":"user","content":"x"}],"stream":true}"""));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.Contains("Retry-After"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("dependency_timeout", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("did not confirm within", doc.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientDisconnects_MidStream_NodeFreesTheSequenceBeforeFinishing()
    {
        await using var node = await PacedNode.StartAsync(fixture);
        await using var owned = await ClientOverAsync(new StaticNodeDirectory([node.Address]), fund: true);
        var address = await fixture.StartGatewayAsync(owned.Client, _ => { });
        // No draining on dispose: the connection closes at once, as when a user stops a chat.
        using var http = new HttpClient(new SocketsHttpHandler { ResponseDrainTimeout = TimeSpan.Zero, MaxResponseDrainSize = 0 }) { BaseAddress = address };
        using var sequences = new SequenceWatch(node.Meters); // this node's engine only
        node.Engine.Allow(2);

        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = Json($$"""{"model":"{{fixture.Model.Name}}","prompt":"Once upon a time","max_tokens":100,"temperature":0,"stream":true,"seed":1}""") })
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync(), StringComparison.Ordinal);
            Assert.Equal(1, sequences.Active); // the node is mid-generation, paced
        } // disposing the response closes the connection mid-stream

        await node.ClientGone.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the gateway cancelled: the node's stream closed
        node.Engine.Allow(1000);                                         // let the node try to go on

        await node.Engine.Freed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await sequences.WaitIdleAsync(TimeSpan.FromSeconds(30)), "the node kept the sequence after the client left");
        Assert.True(sequences.Generated < 10, $"the node generated {sequences.Generated} of 100 tokens after the client left");
    }

    /// <summary>Regression: `poip client ask --validator UNREACHABLE` threw away an answer it had received and paid for.</summary>
    [Fact]
    public async Task ValidatorUnreachable_AnswerKept_AuditPending()
    {
        using var absentKey = Ed25519KeyPair.Generate();
        var absent = Multiaddr.Parse("/ip4/127.0.0.1/tcp/1").WithPeerId(absentKey.PeerId); // nothing listens on port 1
        await using var owned = await ClientOverAsync(new StaticNodeDirectory(fixture.Network.NodeAddresses), fund: true, validators: [absent]);

        var answer = await owned.Client.AskAsync("Once upon a time", new AskOptions(fixture.Model.Id, new Core.Protocol.SamplingParameters(), 1, 8, TokenAmount.ParseTokens("0.008")));
        var address = await fixture.StartGatewayAsync(owned.Client, _ => { });
        using var http = Http(address);
        using var response = await http.PostAsync("v1/completions", Json($$"""{"model":"{{fixture.Model.Name}}","prompt":"Once","max_tokens":4,"seed":1}"""));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var audit = await answer.Audit;
        Assert.Equal(8, answer.OutputTokens.Count);
        Assert.Equal(ClientAuditStatus.Pending, audit.Status);
        Assert.Null(audit.Reply);
        Assert.Contains(absentKey.PeerId.ToString(), audit.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("pending", doc.RootElement.GetProperty("poip").GetProperty("audit").GetString());
    }

    private Task<OwnedClient> ClientOverAsync(INodeDirectory directory, bool fund = false, IReadOnlyList<Multiaddr>? validators = null) =>
        OwnedClient.StartAsync(fixture, directory, fund, validators);

    /// <summary>A directory whose lookup waits until released (then knows no node): holds a gateway slot on demand.</summary>
    private sealed class GatedDirectory : INodeDirectory
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<IReadOnlyList<NodeListing>> FindNodesAsync(ModelId model, CancellationToken cancellationToken = default)
        {
            Entered.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return [];
        }
    }

    /// <summary>A directory whose backing service does not answer in time (as the chain's escrow confirmation did).</summary>
    private sealed class TimingOutDirectory : INodeDirectory
    {
        public Task<IReadOnlyList<NodeListing>> FindNodesAsync(ModelId model, CancellationToken cancellationToken = default) =>
            Task.FromException<IReadOnlyList<NodeListing>>(new TimeoutException("The chain did not confirm within 00:00:15."));
    }

    private sealed class EmptyDirectory : INodeDirectory
    {
        public Task<IReadOnlyList<NodeListing>> FindNodesAsync(ModelId model, CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<NodeListing>>([]);
    }

    /// <summary>
    /// Follows one engine's <c>poip.inference.sequences.active</c> and generated-token instruments (by its
    /// meter factory: counting every engine in the process let an earlier test's audit, which now runs
    /// after its answer, show up as tokens generated after the client left).
    /// </summary>
    private sealed class SequenceWatch : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Lock _lock = new();
        private TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _active;
        private long _generated;

        public SequenceWatch(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LlamaInferenceEngine.MeterName && instrument.Meter.Scope == scope && instrument.Name is "poip.inference.sequences.active" or "poip.inference.tokens.generated")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                lock (_lock)
                {
                    if (instrument.Name == "poip.inference.tokens.generated")
                    {
                        _generated += value;
                        return;
                    }

                    _active += value;
                    if (_active == 0)
                    {
                        _idle.TrySetResult();
                    }
                    else
                    {
                        if (_idle.Task.IsCompleted)
                        {
                            _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        }
                    }
                }
            });
            _listener.Start();
        }

        public long Active
        {
            get
            {
                lock (_lock)
                {
                    return _active;
                }
            }
        }

        public long Generated
        {
            get
            {
                lock (_lock)
                {
                    return _generated;
                }
            }
        }

        public async Task<bool> WaitIdleAsync(TimeSpan timeout)
        {
            Task idle;
            lock (_lock)
            {
                idle = _active == 0 ? Task.CompletedTask : _idle.Task;
            }

            return await Task.WhenAny(idle, Task.Delay(timeout)) == idle;
        }

        public void Dispose() => _listener.Dispose();
    }
}
