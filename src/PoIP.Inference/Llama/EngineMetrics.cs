using System.Diagnostics.Metrics;

namespace PoIP.Inference.Llama;

/// <summary>
/// Instruments of meter <c>PoIP.Inference</c> (<see cref="LlamaInferenceEngine.MeterName"/>). Per-token
/// instruments carry no tags, so recording allocates nothing.
/// </summary>
internal sealed class EngineMetrics : IDisposable
{
    private static readonly KeyValuePair<string, object?> BusyReason = new("reason", "busy");
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _generated;
    private readonly Counter<long> _prefillTokens;
    private readonly Histogram<double> _prefillDuration;
    private readonly Histogram<double> _decodeDuration;
    private readonly Counter<long> _teacherForcedTokens;
    private readonly Histogram<double> _teacherForceDuration;
    private readonly UpDownCounter<long> _queued;
    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _rejected;

    public EngineMetrics(IMeterFactory? factory)
    {
        if (factory is null)
        {
            _meter = new Meter(LlamaInferenceEngine.MeterName);
            _ownsMeter = true;
        }
        else
        {
            _meter = factory.Create(LlamaInferenceEngine.MeterName);
        }

        _generated = _meter.CreateCounter<long>("poip.inference.tokens.generated", "{token}", "Output tokens generated (yielded to the caller)");
        _prefillTokens = _meter.CreateCounter<long>("poip.inference.prefill.tokens", "{token}", "Prompt tokens evaluated by prefills");
        _prefillDuration = _meter.CreateHistogram<double>("poip.inference.prefill.duration", "s", "Time to evaluate a prompt and choose the first token's logits");
        _decodeDuration = _meter.CreateHistogram<double>("poip.inference.decode.duration", "s", "Time of one single-token decode (llama_decode of a generated token)");
        _teacherForcedTokens = _meter.CreateCounter<long>("poip.inference.teacherforce.tokens", "{token}", "Prompt + output tokens evaluated by teacher-forced re-execution");
        _teacherForceDuration = _meter.CreateHistogram<double>("poip.inference.teacherforce.duration", "s", "Time of one teacher-forced re-execution");
        _queued = _meter.CreateUpDownCounter<long>("poip.inference.queue.depth", "{request}", "Requests waiting for a free sequence");
        _active = _meter.CreateUpDownCounter<long>("poip.inference.sequences.active", "{sequence}", "Sequences serving a request");
        _rejected = _meter.CreateCounter<long>("poip.inference.requests.rejected", "{request}", "Requests refused because every sequence was busy and the queue full");
    }

    public void TokenGenerated() => _generated.Add(1);

    public void Prefilled(int tokens, TimeSpan duration)
    {
        _prefillTokens.Add(tokens);
        _prefillDuration.Record(duration.TotalSeconds);
    }

    public void Decoded(TimeSpan duration) => _decodeDuration.Record(duration.TotalSeconds);

    public void TeacherForced(int tokens, TimeSpan duration)
    {
        _teacherForcedTokens.Add(tokens);
        _teacherForceDuration.Record(duration.TotalSeconds);
    }

    public void Queued(int delta) => _queued.Add(delta);

    public void Active(int delta) => _active.Add(delta);

    public void Rejected() => _rejected.Add(1, BusyReason);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
