using System.Diagnostics.Metrics;

namespace PoIP.Network.Internal;

/// <summary>Instruments of meter <c>PoIP.Network</c>.</summary>
internal sealed class NetworkMetrics : IDisposable
{
    public const string MeterName = "PoIP.Network";
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly UpDownCounter<long> _connections;
    private readonly Histogram<double> _dialDuration;
    private readonly Counter<long> _handshakeFailures;
    private readonly Counter<long> _streams;
    private readonly Counter<long> _streamsRefused;

    public NetworkMetrics(IMeterFactory? factory)
    {
        if (factory is null)
        {
            _meter = new Meter(MeterName);
            _ownsMeter = true;
        }
        else
        {
            _meter = factory.Create(MeterName);
        }

        _connections = _meter.CreateUpDownCounter<long>("poip.network.connections", "{connection}", "Open libp2p connections");
        _dialDuration = _meter.CreateHistogram<double>("poip.network.dial.duration", "s", "Time to dial and upgrade a connection");
        _handshakeFailures = _meter.CreateCounter<long>("poip.network.handshake.failures", "{handshake}", "Failed connection upgrades");
        _streams = _meter.CreateCounter<long>("poip.network.streams.opened", "{stream}", "Negotiated streams");
        _streamsRefused = _meter.CreateCounter<long>("poip.network.streams.refused", "{stream}", "Inbound streams reset because the peer had the most open (YamuxOptions.MaxInboundStreams)");
    }

    public void ConnectionOpened(bool inbound) => _connections.Add(1, new KeyValuePair<string, object?>("direction", inbound ? "inbound" : "outbound"));

    public void ConnectionClosed(bool inbound) => _connections.Add(-1, new KeyValuePair<string, object?>("direction", inbound ? "inbound" : "outbound"));

    public void Dialed(TimeSpan duration) => _dialDuration.Record(duration.TotalSeconds);

    public void HandshakeFailed(bool inbound) => _handshakeFailures.Add(1, new KeyValuePair<string, object?>("direction", inbound ? "inbound" : "outbound"));

    public void StreamOpened(string protocol, bool outbound) =>
        _streams.Add(1, new KeyValuePair<string, object?>("protocol", protocol), new KeyValuePair<string, object?>("direction", outbound ? "outbound" : "inbound"));

    public void StreamRefused() => _streamsRefused.Add(1);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
