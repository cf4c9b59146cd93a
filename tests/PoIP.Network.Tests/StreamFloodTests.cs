using System.Diagnostics.Metrics;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Yamux;

namespace PoIP.Network.Tests;

/// <summary>
/// A peer that opens streams without end (10,000 here) against a host whose handler holds every stream open: the host
/// accepts at most <see cref="YamuxOptions.MaxInboundStreams"/>, resets the next ones, counts each reset
/// (<c>poip.network.streams.refused</c>) and closes the connection after <see cref="YamuxOptions.MaxRefusedStreamsInARow"/>
/// refusals in a row; it keeps serving other peers.
/// </summary>
public sealed class StreamFloodTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task OpenStreams_TenThousandPastTheLimit_ResetCountedThenDisconnected()
    {
        using var cts = new CancellationTokenSource(Limit);
        using var victimKey = Ed25519KeyPair.Generate();
        using var attackerKey = Ed25519KeyPair.Generate();
        using var meters = new ScopedMeterFactory();
        long refused = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "poip.network.streams.refused")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref refused, value));
        listener.Start();

        var options = new Libp2pHostOptions { Key = victimKey, IdentifyOnConnect = false, Yamux = new YamuxOptions { MaxInboundStreams = 32, MaxRefusedStreamsInARow = 32, KeepAliveInterval = TimeSpan.Zero } };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        await using var victim = Libp2pHost.Create(options, meterFactory: meters);
        const string Hold = "/hold/1.0.0";
        int held = 0;
        victim.SetHandler(Hold, async (stream, ct) =>
        {
            Interlocked.Increment(ref held);
            await stream.CopyToAsync(Stream.Null, ct); // holds the stream until the peer closes it
        });
        EchoKit.AddEchoHandler(victim);
        await victim.StartAsync(cts.Token);
        await using var attacker = await HostTests.StartHostAsync(attackerKey, o =>
        {
            o.Yamux = new YamuxOptions { MaxOutboundStreams = 10_000, MaxPendingControlFrames = 16_384, KeepAliveInterval = TimeSpan.Zero }; // its own SYN queue never overflows
            o.IdentifyOnConnect = false;
        });
        var connection = await attacker.DialAsync(victim.ListenAddresses[0].WithPeerId(victimKey.PeerId), cts.Token);

        var streams = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(async _ =>
        {
            try
            {
                return await connection.OpenStreamAsync(Hold, cts.Token);
            }
            catch (Exception ex) when (ex is Libp2pException or IOException or ObjectDisposedException or InvalidOperationException || (ex is OperationCanceledException && !cts.IsCancellationRequested))
            {
                return null;
            }
        }));
        await Task.WhenAny(connection.Completion).WaitAsync(cts.Token); // ended, whatever the cause (a reset or broken pipe faults it)

        Assert.InRange(streams.Count(s => s is not null), 0, 32);
        Assert.InRange(Volatile.Read(ref held), 0, 32);
        Assert.Equal(33, Interlocked.Read(ref refused)); // 32 reset, the 33rd in a row closes the connection
        Assert.True(connection.IsClosed);

        // Another peer is served as before.
        using var otherKey = Ed25519KeyPair.Generate();
        await using var other = await HostTests.StartHostAsync(otherKey, o => o.IdentifyOnConnect = false);
        await using var echo = await other.OpenStreamAsync(victim.ListenAddresses[0].WithPeerId(victimKey.PeerId), EchoKit.Echo, cts.Token);
        await echo.WriteAsync("still here"u8.ToArray(), cts.Token);
        await echo.FlushAsync(cts.Token);
        byte[] back = new byte[10];
        await echo.ReadExactlyAsync(back, cts.Token);
        Assert.Equal("still here"u8.ToArray(), back);
    }

    /// <summary>Meters scoped to one test, so measurements of hosts in other tests never count here.</summary>
    private sealed class ScopedMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
