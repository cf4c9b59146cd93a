using System.Diagnostics.Metrics;

namespace PoIP.Gateway;

/// <summary>
/// Instruments of meter <c>PoIP.Gateway</c>, named after OpenTelemetry's GenAI conventions where they
/// exist (exported at <c>/metrics</c> as Prometheus text: dots become underscores, units a suffix).
/// </summary>
internal sealed class GatewayMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "PoIP.Gateway";

    private static readonly double[] SecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536];

    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _timePerOutputToken;
    private readonly Histogram<long> _tokens;
    private readonly UpDownCounter<long> _queueDepth;
    private readonly Counter<long> _audits;
    private readonly Counter<long> _frauds;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _reclaimed;

    public GatewayMetrics(IMeterFactory factory)
    {
        var meter = factory.Create(MeterName);
        _duration = meter.CreateHistogram("gen_ai.server.request.duration", "s", "Time from receiving a completion request to its last byte", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _timeToFirstToken = meter.CreateHistogram("gen_ai.server.time_to_first_token", "s", "Time from receiving a request to its first generated token", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _timePerOutputToken = meter.CreateHistogram("gen_ai.server.time_per_output_token", "s", "Time per generated token after the first", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _tokens = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens per request (gen_ai.token.type = input or output)", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _queueDepth = meter.CreateUpDownCounter<long>("poip.gateway.queue.depth", "{request}", "Requests waiting for a free slot");
        _audits = meter.CreateCounter<long>("poip.gateway.audits", "{audit}", "Validator verdicts received (poip.audit.outcome)");
        _frauds = meter.CreateCounter<long>("poip.gateway.frauds", "{fraud}", "Answers a validator proved fraudulent");
        _rejected = meter.CreateCounter<long>("poip.gateway.requests.rejected", "{request}", "Requests refused with 429 or 503 (reason)");
        _reclaimed = meter.CreateCounter<long>("poip.gateway.escrows.reclaimed", "{escrow}", "Escrows of attempts that delivered no answer, refunded to the gateway");
    }

    public void Reclaimed(int escrows) => _reclaimed.Add(escrows);

    public void Completed(string operation, string model, TimeSpan duration, TimeSpan? timeToFirstToken, int inputTokens, int outputTokens, string? error)
    {
        var op = new KeyValuePair<string, object?>("gen_ai.operation.name", operation);
        var m = new KeyValuePair<string, object?>("gen_ai.request.model", model);
        if (error is null)
        {
            _duration.Record(duration.TotalSeconds, op, m);
        }
        else
        {
            _duration.Record(duration.TotalSeconds, op, m, new KeyValuePair<string, object?>("error.type", error));
            return;
        }

        if (timeToFirstToken is { } ttft)
        {
            _timeToFirstToken.Record(ttft.TotalSeconds, op, m);
            if (outputTokens > 1)
            {
                _timePerOutputToken.Record((duration - ttft).TotalSeconds / (outputTokens - 1), op, m);
            }
        }

        _tokens.Record(inputTokens, op, m, new KeyValuePair<string, object?>("gen_ai.token.type", "input"));
        _tokens.Record(outputTokens, op, m, new KeyValuePair<string, object?>("gen_ai.token.type", "output"));
    }

    public void Queued(int delta) => _queueDepth.Add(delta);

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Audited(string outcome)
    {
        _audits.Add(1, new KeyValuePair<string, object?>("poip.audit.outcome", outcome));
        if (outcome == "fraud")
        {
            _frauds.Add(1);
        }
    }
}
