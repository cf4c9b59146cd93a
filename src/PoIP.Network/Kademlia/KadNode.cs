using Microsoft.Extensions.Logging;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Internal;

namespace PoIP.Network.Kademlia;

/// <summary>
/// The Kademlia engine, independent of how bytes travel (<see cref="IKadTransport"/>): routing table,
/// record store, request handling and the iterative operations. <see cref="KademliaDht"/> runs it over
/// libp2p; tests and the simulation benchmark run many over an in-memory network.
/// </summary>
internal sealed partial class KadNode : IDisposable
{
    /// <summary>Failed requests in a row after which a peer leaves the routing table (the first makes it a suspect, not handed out; the liveness check retries it once).</summary>
    private const int EvictAfterFailures = 2;
    private const int MaxTrackedPeers = 4096;
    private const int MaxProvidersPerReply = 100;
    private readonly KademliaOptions _options;
    private readonly IKadTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<IReadOnlyList<Multiaddr>> _localAddresses;
    private readonly Dictionary<string, IDhtRecordNamespace> _namespaces;
    private readonly PeerRateLimiter _limiter;
    private readonly PeerRateLimiter _outbound;
    private readonly Dictionary<PeerId, int> _strikes = [];
    private readonly Dictionary<PeerId, (bool Admitted, long Stamp)> _admitCache = [];
    private readonly Dictionary<byte[], byte[]> _ownValues = new(ByteArrayComparer.Instance);
    private readonly HashSet<PeerId> _admitting = [];
    private int _checking;
    private readonly HashSet<byte[]> _provided = new(ByteArrayComparer.Instance);
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<ITimer> _timers = [];
    private readonly BackgroundGate _refreshing = new();
    private KadPeer[] _bootstrapPeers = [];
    private readonly BackgroundGate _republishing = new();
    private readonly BackgroundGate _replicating = new();

    /// <summary>
    /// Share of a peer's inbound request budget (<see cref="KademliaOptions.RequestsPerSecond"/>, <see cref="KademliaOptions.RequestBurst"/>)
    /// this node uses when it sends to one peer: below the whole budget, so that timing jitter on the way cannot make
    /// paced requests look like a flood to a peer that enforces the same budget.
    /// </summary>
    public const double OutboundShare = 0.8;

    public KadNode(PeerId self, Func<IReadOnlyList<Multiaddr>> localAddresses, KademliaOptions options, IKadTransport transport, TimeProvider time, ILogger logger, KadMetrics metrics)
    {
        options.Validate();
        Self = self;
        _localAddresses = localAddresses;
        _options = options;
        _transport = transport;
        _time = time;
        _logger = logger;
        Metrics = metrics;
        _namespaces = options.Namespaces.ToDictionary(n => n.Name, StringComparer.Ordinal);
        _limiter = new PeerRateLimiter(options.RequestsPerSecond, options.RequestBurst, time);
        _outbound = new PeerRateLimiter(options.RequestsPerSecond * OutboundShare, Math.Max(1, (int)(options.RequestBurst * OutboundShare)), time);
        Table = new RoutingTable(KadId.FromKey(self.Bytes), options.BucketSize, options.MaxPeersPerGroupInBucket, options.MaxPeersPerGroupInTable);
        Store = new KadRecordStore(options, options.DatabasePath is { } path ? new SqliteKadPersistence(path) : null, time.GetUtcNow());
    }

    public PeerId Self { get; }

    public RoutingTable Table { get; }

    public KadRecordStore Store { get; }

    public KadMetrics Metrics { get; }

    public KademliaOptions Options => _options;

    private int K => _options.BucketSize;

    private LookupParameters Parameters(bool followUp) => new(K, _options.Alpha, _options.DisjointPaths, _options.Resiliency, followUp);

    /// <summary>Starts refresh, republish and expiry sweeps on the injected clock.</summary>
    public void StartTimers()
    {
        if (_options.RefreshInterval > TimeSpan.Zero)
        {
            _timers.Add(_time.CreateTimer(_ => Background("refresh", _refreshing, RefreshAsync), null, _options.RefreshInterval, _options.RefreshInterval));
        }

        _timers.Add(_time.CreateTimer(_ => Background("republish", _republishing, RepublishAsync), null, _options.RepublishInterval, _options.RepublishInterval));
        if (_options.ReplicateInterval > TimeSpan.Zero)
        {
            // Checked six times per interval, so that holders (whose timers are not in step) rarely replicate together:
            // the first one's put resets the others' LastPut.
            var every = _options.ReplicateInterval / 6;
            _timers.Add(_time.CreateTimer(_ => Background("replicate", _replicating, ReplicateAsync), null, every, every));
        }

        var sweep = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, _options.RecordTtl.Ticks / 48));
        _timers.Add(_time.CreateTimer(_ => Store.Sweep(_time.GetUtcNow()), null, sweep, sweep));
    }

    public void Dispose()
    {
        foreach (var t in _timers)
        {
            t.Dispose();
        }

        _stopping.Cancel();
        _stopping.Dispose();
        Store.Dispose();
    }

    private void Background(string name, BackgroundGate gate, Func<CancellationToken, Task> work)
    {
        if (Interlocked.Exchange(ref gate.Running, 1) != 0)
        {
            return; // the previous run is still going
        }

        var token = _stopping.Token;
        Task.Run(() => work(token), CancellationToken.None).ContinueWith(
            t =>
            {
                if (t.Exception is { } ex)
                {
                    Log.DhtBackgroundFailed(_logger, name, ex.InnerException?.Message ?? ex.Message);
                }

                Volatile.Write(ref gate.Running, 0);
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    private sealed class BackgroundGate
    {
        public int Running;
    }
}
