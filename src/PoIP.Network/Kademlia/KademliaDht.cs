using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PoIP.Core.Identity;
using PoIP.Network.Internal;

namespace PoIP.Network.Kademlia;

/// <summary>
/// A Kademlia DHT speaking libp2p kad-dht on a <see cref="Libp2pHost"/>: k-bucket routing table filled from
/// peers that advertise the protocol and answer, α-parallel lookups over disjoint paths, value records
/// validated per namespace, provider records, a bounded record store (SQLite when
/// <see cref="KademliaOptions.DatabasePath"/> is set), refresh and republish on the host's clock.
/// </summary>
public sealed class KademliaDht : IKademliaDht, IAsyncDisposable
{
    private readonly Libp2pHost _host;
    private readonly KademliaOptions _options;
    private readonly KadNode _node;
    private readonly KadMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    private KademliaDht(Libp2pHost host, KademliaOptions options, TimeProvider time, ILoggerFactory loggerFactory, IMeterFactory? meterFactory)
    {
        _host = host;
        _options = options;
        _logger = loggerFactory.CreateLogger("PoIP.Network.Kademlia");
        var transport = new Libp2pKadTransport(host, options, time, _logger);
        KadNode? node = null;
        _metrics = new KadMetrics(meterFactory, () => node?.Table.Count ?? 0, () => node is null ? 0 : node.Store.ValueCount + node.Store.ProviderCount);
        node = new KadNode(host.PeerId, LocalAddresses, options, transport, time, _logger, _metrics);
        _node = node;
        transport.Node = node;
        if (options.Mode == DhtMode.Server)
        {
            host.SetHandler(options.ProtocolId, transport.ServeAsync);
        }

        host.PeerIdentified += OnPeerIdentified;
    }

    /// <summary>Creates a DHT on a libp2p host (registers the protocol handler in server mode; call <see cref="StartAsync"/> to bootstrap).</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static KademliaDht Create(Libp2pHost host, KademliaOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new KademliaDht(host, options, timeProvider ?? host.Time, loggerFactory ?? NullLoggerFactory.Instance, meterFactory);
    }

    /// <inheritdoc />
    public PeerId LocalPeer => _host.PeerId;

    /// <summary>Peers in the routing table now.</summary>
    public int RoutingTableSize => _node.Table.Count;

    /// <summary>The routing table's peers (a snapshot).</summary>
    public IReadOnlyList<DhtPeerInfo> RoutingTablePeers => [.. _node.Table.All().Select(p => p.ToInfo())];

    /// <summary>Requests and records refused so far (every reason).</summary>
    public long RefusedCount => _metrics.RefusedTotal;

    /// <summary>How many bootstrap peers answered at <see cref="StartAsync"/>.</summary>
    public int BootstrapPeersAnswered { get; private set; }

    internal KadNode Node => _node;

    private IReadOnlyList<Addressing.Multiaddr> LocalAddresses() =>
        [.. _host.ListenAddresses.Select(a => a.WithoutPeerId()).Where(a => !IsUnspecified(a))];

    private static bool IsUnspecified(Addressing.Multiaddr address) =>
        address.Components.Any(c => (c.Protocol == Addressing.MultiaddrProtocol.Ip4 || c.Protocol == Addressing.MultiaddrProtocol.Ip6) && c.Value.IndexOfAnyExcept((byte)0) < 0);

    /// <summary>Dials the bootstrap peers, fills the routing table and starts the periodic refresh and republish.</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var peers = new List<KadPeer>();
        foreach (var address in _options.BootstrapPeers)
        {
            if (address.PeerId is { } id && id != LocalPeer)
            {
                peers.Add(new KadPeer(id, [address.WithoutPeerId()]));
            }
            else
            {
                Log.DhtBootstrapFailed(_logger, address.ToString(), "no /p2p/ peer id");
            }
        }

        BootstrapPeersAnswered = await _node.BootstrapAsync(peers, cancellationToken).ConfigureAwait(false);
        _node.StartTimers();
    }

    /// <summary>Runs one routing-table refresh now (a lookup of our id and one random key per non-empty bucket).</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public Task RefreshAsync(CancellationToken cancellationToken = default) => _node.RefreshAsync(cancellationToken);

    /// <inheritdoc />
    public Task<DhtPutResult> PutValueAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) =>
        _node.PutValueAsync(key, value, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<DhtValue>> GetValuesAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        _node.GetValuesAsync(key, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The key is not a multihash or CID.</exception>
    public Task<int> ProvideAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        _node.ProvideAsync(key, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The key is not a multihash or CID.</exception>
    public Task<IReadOnlyList<DhtPeerInfo>> FindProvidersAsync(ReadOnlyMemory<byte> key, int maxCount, CancellationToken cancellationToken = default) =>
        _node.FindProvidersAsync(key, maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<DhtPeerInfo?> FindPeerAsync(PeerId peer, CancellationToken cancellationToken = default) =>
        _node.FindPeerAsync(peer, cancellationToken);

    private void OnPeerIdentified(object? sender, Libp2pIdentifiedEventArgs e)
    {
        if (!e.Info.Protocols.Contains(_options.ProtocolId, StringComparer.Ordinal) || _node.Table.Contains(e.Info.Peer))
        {
            return; // a client-mode peer (or one that does not speak our protocol) never enters the table
        }

        var addresses = e.Info.ListenAddresses.Select(a => a.WithoutPeerId()).Where(a => a.TryGetTcpTarget(out _, out _, out _)).ToList();
        if (addresses.Count == 0)
        {
            addresses.Add(e.Connection.RemoteAddress.WithoutPeerId());
        }

        var token = _stopping.Token;
        _ = Task.Run(() => _node.TryAdmitAsync(new KadPeer(e.Info.Peer, addresses), token), CancellationToken.None);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _host.PeerIdentified -= OnPeerIdentified;
        if (_options.Mode == DhtMode.Server)
        {
            _host.RemoveHandler(_options.ProtocolId);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _node.Dispose();
        _metrics.Dispose();
        _stopping.Dispose();
    }
}
