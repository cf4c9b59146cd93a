using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NSec.Cryptography;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Internal;
using PoIP.Network.Multistream;
using PoIP.Network.Noise;
using PoIP.Network.Protocols;
using PoIP.Network.Yamux;

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
public sealed class Libp2pHost : IAsyncDisposable
{
    private readonly Libp2pHostOptions _options;
    private readonly Ed25519KeyPair _key;
    private readonly Key _noiseStatic;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Libp2pStreamHandler> _handlers = new(StringComparer.Ordinal);
    private readonly List<Libp2pConnection> _connections = [];
    private readonly Lock _connectionsLock = new();
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
            var period = _options.IdleTimeout / 2;
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

    /// <summary>An open connection to <paramref name="peer"/>, or null.</summary>
    public Libp2pConnection? FindConnection(PeerId peer)
    {
        lock (_connectionsLock)
        {
            return _connections.FirstOrDefault(c => c.RemotePeer == peer && !c.IsClosed);
        }
    }

    /// <summary>Opens a stream for <paramref name="protocol"/> to the peer at <paramref name="address"/>, reusing a connection when one exists.</summary>
    /// <exception cref="Libp2pException">Dialing or negotiation failed.</exception>
    public async Task<Libp2pStream> OpenStreamAsync(Multiaddr address, string protocol, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        var connection = (address.PeerId is { } peer ? FindConnection(peer) : null)
            ?? await DialAsync(address, cancellationToken).ConfigureAwait(false);
        return await connection.OpenStreamAsync(protocol, cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ upgrade

    private async Task<Libp2pConnection> UpgradeAsync(Socket socket, bool inbound, PeerId? expected, CancellationToken cancellationToken)
    {
        socket.NoDelay = true;
        var remoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        var localEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        var network = new NetworkStream(socket, ownsSocket: true);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        cts.CancelAfter(_options.HandshakeTimeout);
        NoiseSecureStream? secure = null;
        try
        {
            string[] muxers = _options.EarlyMuxerNegotiation ? [YamuxSession.ProtocolId] : [];
            NoiseResult noise;
            if (inbound)
            {
                await MultistreamSelect.ListenAsync(network, p => p == NoiseHandshake.ProtocolId, cts.Token).ConfigureAwait(false);
                noise = await NoiseHandshake.RespondAsync(network, _noiseStatic, _key, muxers, cts.Token).ConfigureAwait(false);
            }
            else
            {
                await MultistreamSelect.SelectAsync(network, NoiseHandshake.ProtocolId, cts.Token).ConfigureAwait(false);
                noise = await NoiseHandshake.InitiateAsync(network, _noiseStatic, _key, muxers, expected, cts.Token).ConfigureAwait(false);
            }

            secure = new NoiseSecureStream(network, noise.Send, noise.Receive);
            bool early = _options.EarlyMuxerNegotiation && noise.RemoteMuxers.Contains(YamuxSession.ProtocolId);
            if (!early)
            {
                if (inbound)
                {
                    await MultistreamSelect.ListenAsync(secure, p => p == YamuxSession.ProtocolId, cts.Token).ConfigureAwait(false);
                }
                else
                {
                    await MultistreamSelect.SelectAsync(secure, YamuxSession.ProtocolId, cts.Token).ConfigureAwait(false);
                }
            }

            var remoteAddress = Multiaddr.FromEndPoint(remoteEndPoint).WithPeerId(noise.RemotePeer);
            var localAddress = Multiaddr.FromEndPoint(localEndPoint);
            Libp2pConnection? connection = null;
            var session = new YamuxSession(secure, isClient: !inbound, _options.Yamux, s => HandleInboundStreamAsync(connection!, s), Time, _logger);
            session.StreamRefused = Metrics.StreamRefused;
            connection = new Libp2pConnection(this, session, noise.RemotePeer, noise.RemoteKey, remoteAddress, localAddress, inbound, Time);
            if (!TryAdd(connection, out string? refusal))
            {
                session.Abort(null);
                throw Errors.Limit(refusal!);
            }

            session.Start();
            _ = WatchAsync(connection);
            Metrics.ConnectionOpened(inbound);
            Log.ConnectionOpened(_logger, inbound ? "inbound" : "outbound", noise.RemotePeer.ToString(), remoteAddress.ToString());
            ConnectionOpened?.Invoke(this, new Libp2pConnectionEventArgs(connection));
            if (_options.IdentifyOnConnect)
            {
                _ = IdentifyOnConnectAsync(connection);
            }

            return connection;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            Dispose(secure, network);
            throw new Libp2pException(Libp2pErrorCodes.Timeout, "handshake timed out", ex);
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or SocketException or PoIPDecodeException)
        {
            Dispose(secure, network);
            throw new Libp2pException(Libp2pErrorCodes.HandshakeFailed, "handshake failed: " + ex.Message, ex);
        }
        catch
        {
            Dispose(secure, network);
            throw;
        }

        static void Dispose(NoiseSecureStream? secure, NetworkStream network)
        {
            if (secure is not null)
            {
                secure.Dispose();
            }
            else
            {
                network.Dispose();
            }
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            if (!_pendingInbound.Wait(0))
            {
                Log.ConnectionRefused(_logger, "too many pending inbound handshakes");
                socket.Dispose();
                continue;
            }

            _ = Task.Run(async () =>
            {
                string remote = socket.RemoteEndPoint?.ToString() ?? "?";
                try
                {
                    await UpgradeAsync(socket, inbound: true, expected: null, _stopping.Token).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Metrics.HandshakeFailed(inbound: true);
                    Log.InboundHandshakeFailed(_logger, remote, ex.Message);
                    socket.Dispose();
                }
                finally
                {
                    _pendingInbound.Release();
                }
            });
        }
    }

    // ------------------------------------------------------------------ connection manager

    private void EnsureCapacity(PeerId? peer)
    {
        lock (_connectionsLock)
        {
            if (_connections.Count >= _options.MaxConnections)
            {
                throw Errors.Limit($"{_options.MaxConnections} connections open");
            }

            if (peer is { } p && _connections.Count(c => c.RemotePeer == p) >= _options.MaxConnectionsPerPeer)
            {
                throw Errors.Limit($"{_options.MaxConnectionsPerPeer} connections with {p} open");
            }
        }
    }

    private bool TryAdd(Libp2pConnection connection, out string? refusal)
    {
        lock (_connectionsLock)
        {
            refusal = null;
            if (Volatile.Read(ref _disposed) != 0)
            {
                refusal = "host is stopping";
            }
            else if (_connections.Count >= _options.MaxConnections)
            {
                refusal = $"{_options.MaxConnections} connections open";
            }
            else if (_connections.Count(c => c.RemotePeer == connection.RemotePeer) >= _options.MaxConnectionsPerPeer)
            {
                refusal = $"{_options.MaxConnectionsPerPeer} connections with {connection.RemotePeer} open";
            }

            if (refusal is not null)
            {
                Log.ConnectionRefused(_logger, refusal);
                return false;
            }

            _connections.Add(connection);
            return true;
        }
    }

    private async Task WatchAsync(Libp2pConnection connection)
    {
        string reason = "closed";
        try
        {
            await connection.Session.Completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            reason = ex.Message;
        }

        OnConnectionEnded(connection, reason);
    }

    /// <summary>
    /// Removes a finished connection, raises <see cref="ConnectionClosed"/> once, then completes
    /// <see cref="Libp2pConnection.Completion"/> (so whoever awaits it sees the connection gone).
    /// Called by the watcher when the session ends and by a local close or dispose once the session has ended.
    /// </summary>
    internal void OnConnectionEnded(Libp2pConnection connection, string reason)
    {
        lock (_connectionsLock)
        {
            _connections.Remove(connection);
        }

        if (!connection.ClosedRaised)
        {
            Metrics.ConnectionClosed(connection.IsInbound);
            Log.ConnectionClosed(_logger, connection.RemotePeer.ToString(), reason);
            connection.SetIdentifyFailed(Errors.Closed("connection closed before identify completed"));
            try
            {
                ConnectionClosed?.Invoke(this, new Libp2pConnectionEventArgs(connection));
            }
            finally
            {
                connection.SetEnded();
            }
        }
    }

    private void CloseIdleConnections()
    {
        Libp2pConnection[] idle;
        lock (_connectionsLock)
        {
            idle = [.. _connections.Where(c => c.StreamCount == 0 && Time.GetElapsedTime(c.LastActivity) >= _options.IdleTimeout)];
        }

        foreach (var c in idle)
        {
            Log.IdleClose(_logger, c.RemotePeer.ToString());
            _ = c.CloseAsync();
        }
    }

    // ------------------------------------------------------------------ streams

    private async Task HandleInboundStreamAsync(Libp2pConnection connection, Libp2pStream stream)
    {
        stream.Connection = connection;
        stream.RemotePeer = connection.RemotePeer;
        connection.LastActivity = Time.GetTimestamp();
        await using (stream.ConfigureAwait(false))
        {
            string protocol;
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                cts.CancelAfter(_options.StreamNegotiationTimeout);
                try
                {
                    protocol = await MultistreamSelect.ListenAsync(stream, _handlers.ContainsKey, cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!_stopping.IsCancellationRequested)
                {
                    throw new Libp2pException(Libp2pErrorCodes.Timeout, "stream negotiation timed out", ex);
                }
            }

            stream.Protocol = protocol;
            Metrics.StreamOpened(protocol, outbound: false);
            if (_handlers.TryGetValue(protocol, out var handler))
            {
                await handler(stream, _stopping.Token).ConfigureAwait(false);
            }
        }
    }

    private async Task ServeIdentifyAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var connection = stream.Connection!;
        var message = IdentifyCodec.Encode(_key.PublicKey, _options.ProtocolVersion, _options.AgentVersion, Protocols,
            ListenAddresses.Select(a => a.WithoutPeerId()), connection.RemoteAddress.WithoutPeerId());
        await LengthPrefixedFrames.WriteAsync(stream, message, cancellationToken).ConfigureAwait(false);
        await stream.CompleteWritingAsync().ConfigureAwait(false);
    }

    internal async Task<IdentifyInfo> IdentifyAsync(Libp2pConnection connection, CancellationToken cancellationToken)
    {
        var stream = await connection.OpenStreamAsync(IdentifyCodec.ProtocolId, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.CompleteWritingAsync().ConfigureAwait(false);
            byte[] message;
            try
            {
                message = await LengthPrefixedFrames.ReadAsync(stream, IdentifyCodec.MaxMessageLength, cancellationToken).ConfigureAwait(false)
                    ?? throw new Libp2pException(Libp2pErrorCodes.Closed, "identify stream ended before a message");
            }
            catch (PoIPDecodeException ex)
            {
                throw ex.Kind == DecodeErrorKind.Oversize ? Internal.Errors.Limit(ex.Message) : Internal.Errors.Protocol(ex.Message);
            }

            var info = IdentifyCodec.Decode(message, connection.RemotePeer);
            connection.SetIdentified(info);
            PeerIdentified?.Invoke(this, new Libp2pIdentifiedEventArgs(connection, info));
            return info;
        }
    }

    private async Task IdentifyOnConnectAsync(Libp2pConnection connection)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        cts.CancelAfter(_options.HandshakeTimeout);
        try
        {
            await IdentifyAsync(connection, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.IdentifyFailed(_logger, connection.RemotePeer.ToString(), ex.Message);
            connection.SetIdentifyFailed(ex);
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
