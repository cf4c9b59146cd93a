using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace PoIP.Node.Hosts;

/// <summary>
/// The lab's wire: a user-space IPv4 switch between the TUN devices of the lab's namespaces. It
/// forwards a packet only to the namespace that owns its destination address (anything else, and
/// every non-IPv4 packet, is dropped: traffic never leaves the lab), and applies each link's
/// <see cref="LinkSettings"/> (delay, loss, partition) and the pairwise cuts (<see cref="Cut"/>: two hosts that cannot
/// reach each other while both reach everyone else). One reader thread per device (a 100 ms poll,
/// so it notices the stop), one delivery thread for delayed packets; at most
/// <see cref="MaxQueuedPackets"/> packets wait (more are dropped, like a full queue).
/// </summary>
internal sealed class PacketSwitch : IDisposable
{
    /// <summary>Most packets waiting for their delay at once.</summary>
    public const int MaxQueuedPackets = 65_536;

    private const int PollMilliseconds = 100;
    private readonly ConcurrentDictionary<uint, Port> _ports = new();
    private readonly ConcurrentDictionary<ulong, bool> _cuts = new();
    private readonly PriorityQueue<(Port To, byte[] Packet), long> _delayed = new();
    private readonly object _delayedLock = new();
    private readonly Thread _delivery;
    private readonly TimeProvider _time;
#pragma warning disable CA5394 // Loss emulation, not security.
    private readonly Random _random = new(7);
#pragma warning restore CA5394
    private volatile bool _stopped;
    private long _forwarded;
    private long _dropped;

    public PacketSwitch(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _delivery = new Thread(DeliverDelayed) { IsBackground = true, Name = "poip-lab-delivery" };
        _delivery.Start();
    }

    /// <summary>Packets handed to a destination namespace.</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Packets dropped (unknown destination, not IPv4, loss, partition, full queue).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Attaches <paramref name="device"/> as the owner of <paramref name="address"/> and starts reading it.</summary>
    public void Attach(System.Net.IPAddress address, TunDevice device)
    {
        var port = new Port(device, Key(address));
        if (!_ports.TryAdd(Key(address), port))
        {
            throw new InvalidOperationException($"{address} is already attached.");
        }

        port.Reader = new Thread(() => ReadLoop(port)) { IsBackground = true, Name = "poip-lab-" + address };
        port.Reader.Start();
    }

    /// <summary>Sets the link of the host at <paramref name="address"/>.</summary>
    public void Configure(System.Net.IPAddress address, LinkSettings settings) =>
        (_ports.TryGetValue(Key(address), out var port) ? port : throw new InvalidOperationException($"{address} is not attached.")).Settings = settings.Validated();

    /// <summary>The link settings of the host at <paramref name="address"/>.</summary>
    public LinkSettings SettingsOf(System.Net.IPAddress address) => _ports.TryGetValue(Key(address), out var port) ? port.Settings : LinkSettings.Clear;

    /// <summary>Cuts the pair: every packet between <paramref name="a"/> and <paramref name="b"/> is dropped, both ways (each still reaches everyone else).</summary>
    public void Cut(System.Net.IPAddress a, System.Net.IPAddress b) => _cuts[Pair(Key(a), Key(b))] = true;

    /// <summary>Mends a pair cut with <see cref="Cut"/>.</summary>
    public void Mend(System.Net.IPAddress a, System.Net.IPAddress b) => _cuts.TryRemove(Pair(Key(a), Key(b)), out _);

    public void Dispose()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        lock (_delayedLock)
        {
            Monitor.PulseAll(_delayedLock);
        }

        foreach (var port in _ports.Values)
        {
            port.Reader?.Join(TimeSpan.FromSeconds(2));
            port.Device.Dispose();
        }

        _delivery.Join(TimeSpan.FromSeconds(2));
    }

    private static uint Key(System.Net.IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    private static ulong Pair(uint a, uint b) => a < b ? ((ulong)a << 32) | b : ((ulong)b << 32) | a;

    private void ReadLoop(Port from)
    {
        byte[] buffer = new byte[65_536];
        while (!_stopped)
        {
            int length = from.Device.Read(buffer, PollMilliseconds);
            if (length > 0)
            {
                Forward(from, buffer.AsSpan(0, length));
            }
        }
    }

    private void Forward(Port from, ReadOnlySpan<byte> packet)
    {
        // IPv4 only: version 4, a whole header, the destination at bytes 16-19.
        if (packet.Length < 20 || packet[0] >> 4 != 4 || !_ports.TryGetValue(BinaryPrimitives.ReadUInt32BigEndian(packet[16..20]), out var to))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        var a = from.Settings;
        var b = to.Settings;
        if (a.Partitioned || b.Partitioned || (!_cuts.IsEmpty && _cuts.ContainsKey(Pair(from.Address, to.Address))) || Lost(a.Loss, b.Loss))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        var delay = a.Delay + b.Delay;
        if (delay <= TimeSpan.Zero)
        {
            to.Device.Write(packet);
            Interlocked.Increment(ref _forwarded);
            return;
        }

        long due = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        lock (_delayedLock)
        {
            if (_delayed.Count >= MaxQueuedPackets)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }

            _delayed.Enqueue((to, packet.ToArray()), due);
            Monitor.Pulse(_delayedLock);
        }
    }

    private bool Lost(double a, double b)
    {
        double keep = (1 - a) * (1 - b);
        if (keep >= 1)
        {
            return false;
        }

        lock (_random)
        {
#pragma warning disable CA5394 // Loss emulation, not security.
            return _random.NextDouble() >= keep;
#pragma warning restore CA5394
        }
    }

    private void DeliverDelayed()
    {
        while (!_stopped)
        {
            (Port To, byte[] Packet) next;
            lock (_delayedLock)
            {
                if (!_delayed.TryPeek(out next, out long due))
                {
                    Monitor.Wait(_delayedLock, PollMilliseconds);
                    continue;
                }

                var wait = _time.GetElapsedTime(_time.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    Monitor.Wait(_delayedLock, wait > TimeSpan.FromMilliseconds(PollMilliseconds) ? TimeSpan.FromMilliseconds(PollMilliseconds) : wait);
                    continue;
                }

                _delayed.Dequeue();
            }

            next.To.Device.Write(next.Packet);
            Interlocked.Increment(ref _forwarded);
        }
    }

    private sealed class Port(TunDevice device, uint address)
    {
        public TunDevice Device { get; } = device;

        public uint Address { get; } = address;

        public Thread? Reader { get; set; }

        public volatile LinkSettings Settings = LinkSettings.Clear;
    }
}
