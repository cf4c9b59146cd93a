using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NSec.Cryptography;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Internal;
using PoIP.Network.Multistream;
using PoIP.Network.Noise;
using PoIP.Network.Protocols;

namespace PoIP.Network;

/// <summary>A handler for inbound streams of one protocol. The host disposes the stream when it returns.</summary>
public delegate Task Libp2pStreamHandler(Libp2pStream stream, CancellationToken cancellationToken);

/// <summary>Data of <see cref="Libp2pHost.ConnectionOpened"/> and <see cref="Libp2pHost.ConnectionClosed"/>.</summary>
public sealed class Libp2pConnectionEventArgs(Libp2pConnection connection) : EventArgs
{
    /// <summary>The connection.</summary>
    public Libp2pConnection Connection { get; } = connection;
}

/// <summary>Data of <see cref="Libp2pHost.PeerIdentified"/>.</summary>
public sealed class Libp2pIdentifiedEventArgs(Libp2pConnection connection, IdentifyInfo info) : EventArgs
{
    /// <summary>The connection identify ran on.</summary>
    public Libp2pConnection Connection { get; } = connection;

    /// <summary>What the peer said.</summary>
    public IdentifyInfo Info { get; } = info;
}

/// <summary>
/// A libp2p host over TCP: listens and dials, secures connections with Noise XX, multiplexes them
/// with Yamux, serves identify, ping and perf, and dispatches inbound streams to registered
/// protocol handlers. A connection manager bounds connections (total, per peer, pending inbound
/// handshakes) and closes idle ones.
/// </summary>
public sealed partial class Libp2pHost : IAsyncDisposable
{
    private readonly Libp2pHostOptions _options;
    private readonly Ed25519KeyPair _key;
    private readonly Key _noiseStatic;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Libp2pStreamHandler> _handlers = new(StringComparer.Ordinal);
    private readonly List<Libp2pConnection> _connections = [];
    private readonly Lock _connectionsLock = new();
    private readonly ConcurrentDictionary<PeerId, Task<Libp2pConnection>> _dialing = new();
    private readonly List<Socket> _listeners = [];
    private readonly List<Multiaddr> _listenAddresses = [];
    private readonly SemaphoreSlim _pendingInbound;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _acceptLoops = [];
    private ITimer? _idleTimer;
    private int _disposed;

    private Libp2pHost(Libp2pHostOptions options, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        options.Validate();
        _options = options;
        _key = options.Key!;
        _noiseStatic = NoiseHandshake.CreateStaticKey();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("PoIP.Network.Libp2pHost");
        Metrics = new NetworkMetrics(meterFactory);
        _pendingInbound = new SemaphoreSlim(options.MaxPendingInbound, options.MaxPendingInbound);
        _handlers[IdentifyCodec.ProtocolId] = ServeIdentifyAsync;
        _handlers[PingProtocol.ProtocolId] = PingProtocol.ServeAsync;
        if (options.EnablePerf)
        {
            _handlers[PerfProtocol.ProtocolId] = PerfProtocol.ServeAsync;
        }
    }

    /// <summary>Creates a host (not yet listening: call <see cref="StartAsync"/>).</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static Libp2pHost Create(Libp2pHostOptions options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new Libp2pHost(options, loggerFactory, meterFactory);
    }

    /// <summary>This host's peer id.</summary>
    public PeerId PeerId => _key.PeerId;

    /// <summary>The bound listen addresses (actual ports), each ending in <c>/p2p/&lt;id&gt;</c>.</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses
    {
        get
        {
            lock (_connectionsLock)
            {
                return [.. _listenAddresses];
            }
        }
    }

    /// <summary>Open connections.</summary>
    public IReadOnlyList<Libp2pConnection> Connections
    {
        get
        {
            lock (_connectionsLock)
            {
                return [.. _connections];
            }
        }
    }

    /// <summary>The protocols this host answers (identify lists them).</summary>
    public IReadOnlyCollection<string> Protocols => [.. _handlers.Keys.Order(StringComparer.Ordinal)];

    internal TimeProvider Time => _options.TimeProvider;

    internal NetworkMetrics Metrics { get; }

    /// <summary>Raised when a connection is established (after the handshake).</summary>
    public event EventHandler<Libp2pConnectionEventArgs>? ConnectionOpened;

    /// <summary>Raised when a connection ends.</summary>
    public event EventHandler<Libp2pConnectionEventArgs>? ConnectionClosed;

    /// <summary>Raised when identify with a peer completes.</summary>
    public event EventHandler<Libp2pIdentifiedEventArgs>? PeerIdentified;

    /// <summary>Registers (or replaces) the handler of <paramref name="protocol"/>.</summary>
    /// <exception cref="ArgumentException">The protocol id is empty, too long or has a newline.</exception>
    public void SetHandler(string protocol, Libp2pStreamHandler handler)
    {
        MultistreamSelect.ValidateProtocol(protocol);
        ArgumentNullException.ThrowIfNull(handler);
        _handlers[protocol] = handler;
    }

    /// <summary>Removes the handler of <paramref name="protocol"/>.</summary>
    public bool RemoveHandler(string protocol) => _handlers.TryRemove(protocol, out _);

    /// <summary>Binds the listen addresses and starts accepting.</summary>
    /// <exception cref="SocketException">An address cannot be bound.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        foreach (var address in _options.ListenAddresses)
        {
            cancellationToken.ThrowIfCancellationRequested();
            address.TryGetTcpTarget(out string host, out int port, out var family);
            var ip = IPAddress.Parse(host);
            var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (family == AddressFamily.InterNetworkV6)
                {
                    socket.DualMode = false;
                }

                socket.Bind(new IPEndPoint(ip, port));
                socket.Listen(512);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            var bound = Multiaddr.FromEndPoint((IPEndPoint)socket.LocalEndPoint!).WithPeerId(PeerId);
            lock (_connectionsLock)
            {
                _listeners.Add(socket);
                _listenAddresses.Add(bound);
            }

            Log.Listening(_logger, bound.ToString());
            _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(socket), CancellationToken.None));
        }

        if (_options.IdleTimeout > TimeSpan.Zero)
        {
            var period = TimeSpan.FromTicks(Math.Min(_options.IdleTimeout.Ticks / 2, RedundantIdleTimeout.Ticks / 2));
            _idleTimer = Time.CreateTimer(_ => CloseIdleConnections(), null, period, period);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Dials <paramref name="address"/> (<c>/ip4|ip6|dns4|dns6/.../tcp/port[/p2p/id]</c>) and upgrades
    /// the connection. With a <c>/p2p</c> component the remote must prove that identity.
    /// </summary>
    /// <exception cref="Libp2pException">Unreachable, timed out, wrong peer, limits, or a protocol failure.</exception>
    public async Task<Libp2pConnection> DialAsync(Multiaddr address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!address.TryGetTcpTarget(out string host, out int port, out var family))
        {
            throw new Libp2pException(Libp2pErrorCodes.Unreachable, $"cannot dial {address}: not a TCP address");
        }

        var expected = address.PeerId;
        if (expected == PeerId)
        {
            throw new Libp2pException(Libp2pErrorCodes.Unreachable, "cannot dial self");
        }

        EnsureCapacity(expected);
        long start = Time.GetTimestamp();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        cts.CancelAfter(_options.DialTimeout);
        var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            try
            {
                if (IPAddress.TryParse(host, out var ip))
                {
                    await socket.ConnectAsync(new IPEndPoint(ip, port), cts.Token).ConfigureAwait(false);
                }
                else
                {
                    var addresses = await Dns.GetHostAddressesAsync(host, family, cts.Token).ConfigureAwait(false);
                    await socket.ConnectAsync(addresses, port, cts.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new Libp2pException(Libp2pErrorCodes.Timeout, $"dialing {address} timed out", ex);
            }
            catch (SocketException ex)
            {
                throw new Libp2pException(Libp2pErrorCodes.Unreachable, $"cannot connect to {address}: {ex.SocketErrorCode}", ex);
            }

            var connection = await UpgradeAsync(socket, inbound: false, expected, cancellationToken).ConfigureAwait(false);
            Metrics.Dialed(Time.GetElapsedTime(start));
            return connection;
        }
        catch
        {
            socket.Dispose();
            Metrics.HandshakeFailed(inbound: false);
            throw;
        }
    }

    /// <summary>
    /// An open connection to <paramref name="peer"/>, or null. With more than one (both sides dialled at
    /// once), the one both sides choose: dialled by the peer whose id sorts first, the oldest of those.
    /// </summary>
    public Libp2pConnection? FindConnection(PeerId peer)
    {
        lock (_connectionsLock)
        {
            return PreferredConnection(peer);
        }
    }

    /// <summary>Opens a stream for <paramref name="protocol"/> to the peer at <paramref name="address"/>, reusing a connection when one exists.</summary>
    /// <exception cref="Libp2pException">Dialing or negotiation failed.</exception>
    public async Task<Libp2pStream> OpenStreamAsync(Multiaddr address, string protocol, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        var connection = address.PeerId is { } peer
            ? FindConnection(peer) ?? await DialOnceAsync(peer, address).WaitAsync(cancellationToken).ConfigureAwait(false)
            : await DialAsync(address, cancellationToken).ConfigureAwait(false);
        return await connection.OpenStreamAsync(protocol, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Concurrent first streams to a peer that is not connected yet share one dial (else N concurrent requests open N
    /// connections to it). The shared dial is bounded by <see cref="Libp2pHostOptions.DialTimeout"/>, not by any one
    /// caller's token: a caller that gives up stops waiting, the others keep the dial.
    /// </summary>
    private Task<Libp2pConnection> DialOnceAsync(PeerId peer, Multiaddr address)
    {
        while (true)
        {
            if (_dialing.TryGetValue(peer, out var pending))
            {
                return pending;
            }

            var dial = new TaskCompletionSource<Libp2pConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_dialing.TryAdd(peer, dial.Task))
            {
                _ = RunSharedDialAsync(peer, address, dial);
                return dial.Task;
            }
        }
    }

    private async Task RunSharedDialAsync(PeerId peer, Multiaddr address, TaskCompletionSource<Libp2pConnection> dial)
    {
        try
        {
            dial.TrySetResult(await DialAsync(address, CancellationToken.None).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            dial.TrySetException(ex);
        }
        finally
        {
            _dialing.TryRemove(KeyValuePair.Create(peer, dial.Task));
        }
    }

    // ------------------------------------------------------------------ shutdown

    /// <summary>Stops listening and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _idleTimer?.Dispose();
        await _stopping.CancelAsync().ConfigureAwait(false);
        Socket[] listeners;
        Libp2pConnection[] connections;
        lock (_connectionsLock)
        {
            listeners = [.. _listeners];
            connections = [.. _connections];
        }

        foreach (var l in listeners)
        {
            l.Dispose();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Task.WhenAll(connections.Select(c => c.CloseAsync(cts.Token))).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // listeners are gone
        }

        _noiseStatic.Dispose();
        Metrics.Dispose();
        _stopping.Dispose();
        _pendingInbound.Dispose();
    }
}
