using System.Diagnostics.Metrics;

namespace PoIP.Network.Kademlia;

/// <summary>Kademlia instruments on meter <c>PoIP.Network</c>.</summary>
internal sealed class KadMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _inbound;
    private readonly Counter<long> _outbound;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _disconnects;
    private readonly Counter<long> _stored;
    private long _refusedTotal;

    public KadMetrics(IMeterFactory? factory, Func<int> routingTableSize, Func<int> records)
    {
        if (factory is null)
        {
            _meter = new Meter(Internal.NetworkMetrics.MeterName);
            _ownsMeter = true;
        }
        else
        {
            _meter = factory.Create(Internal.NetworkMetrics.MeterName);
        }

        _inbound = _meter.CreateCounter<long>("poip.network.dht.requests.inbound", "{request}", "kad-dht requests served, by type");
        _outbound = _meter.CreateCounter<long>("poip.network.dht.requests.outbound", "{request}", "kad-dht requests sent, by type and outcome");
        _refused = _meter.CreateCounter<long>("poip.network.dht.refused", "{request}", "kad-dht inbound requests or records refused, by reason");
        _disconnects = _meter.CreateCounter<long>("poip.network.dht.disconnects", "{peer}", "Peers disconnected for misbehaving");
        _stored = _meter.CreateCounter<long>("poip.network.dht.records.stored", "{record}", "Records stored locally, by kind");
        _meter.CreateObservableGauge("poip.network.dht.routing_table.size", routingTableSize, "{peer}", "Peers in the routing table");
        _meter.CreateObservableGauge("poip.network.dht.records", records, "{record}", "Value and provider records held");
    }

    /// <summary>Refusals so far (all reasons); tests read it.</summary>
    public long RefusedTotal => Interlocked.Read(ref _refusedTotal);

    public void Inbound(string type) => _inbound.Add(1, new KeyValuePair<string, object?>("type", type));

    public void Outbound(string type, bool ok) =>
        _outbound.Add(1, new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("outcome", ok ? "ok" : "failed"));

    public void Refused(string reason)
    {
        Interlocked.Increment(ref _refusedTotal);
        _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    public void Disconnected() => _disconnects.Add(1);

    public void Stored(string kind) => _stored.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
