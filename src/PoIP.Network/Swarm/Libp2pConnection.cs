using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Multistream;
using PoIP.Network.Protocols;
using PoIP.Network.Yamux;

namespace PoIP.Network;

/// <summary>An authenticated (Noise), multiplexed (Yamux) connection with one peer.</summary>
public sealed class Libp2pConnection : IAsyncDisposable
{
    private readonly Libp2pHost _host;
    private readonly TaskCompletionSource<IdentifyInfo> _identified = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _closedRaised;

    internal Libp2pConnection(Libp2pHost host, YamuxSession session, PeerId remotePeer, Ed25519PublicKey remoteKey, Multiaddr remoteAddress, Multiaddr localAddress, bool inbound, TimeProvider time)
    {
        _host = host;
        Session = session;
        RemotePeer = remotePeer;
        RemotePublicKey = remoteKey;
        RemoteAddress = remoteAddress;
        LocalAddress = localAddress;
        IsInbound = inbound;
        LastActivity = time.GetTimestamp();
        _identified.Task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        _ended.Task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    internal YamuxSession Session { get; }

    internal long LastActivity { get; set; }

    internal bool ClosedRaised => Interlocked.Exchange(ref _closedRaised, 1) != 0;

    /// <summary>The authenticated remote peer.</summary>
    public PeerId RemotePeer { get; }

    /// <summary>The remote identity key (from the Noise handshake).</summary>
    public Ed25519PublicKey RemotePublicKey { get; }

    /// <summary>The remote TCP address (with <c>/p2p/</c>).</summary>
    public Multiaddr RemoteAddress { get; }

    /// <summary>Our side's TCP address.</summary>
    public Multiaddr LocalAddress { get; }

    /// <summary>True when the peer dialed us.</summary>
    public bool IsInbound { get; }

    /// <summary>Open streams.</summary>
    public int StreamCount => Session.StreamCount;

    /// <summary>True once closed or lost.</summary>
    public bool IsClosed => Session.IsClosed;

    /// <summary>
    /// Completes when the connection has ended and the host has let go of it: by then it is no longer in
    /// <see cref="Libp2pHost.Connections"/> and <see cref="Libp2pHost.ConnectionClosed"/> has been raised.
    /// Faults with the cause when the connection was lost rather than closed.
    /// </summary>
    public Task Completion => _ended.Task;

    /// <summary>Called by the host once the connection is removed and the closed event raised.</summary>
    internal void SetEnded()
    {
        var session = Session.Completion;
        if (!session.IsCompleted)
        {
            // A close that raced with an abort still in progress: the abort completes the session in a finally.
            session.ContinueWith(_ => SetEnded(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }

        if (session.IsFaulted)
        {
            _ended.TrySetException(session.Exception!.InnerExceptions);
        }
        else
        {
            _ended.TrySetResult();
        }
    }

    /// <summary>Completes with what the peer said over identify (when the host identifies on connect).</summary>
    public Task<IdentifyInfo> Identified => _identified.Task;

    internal void SetIdentified(IdentifyInfo info) => _identified.TrySetResult(info);

    internal void SetIdentifyFailed(Exception ex) => _identified.TrySetException(ex);

    /// <summary>Opens a stream and negotiates <paramref name="protocol"/> on it.</summary>
    /// <exception cref="Libp2pException">The peer does not support the protocol (<c>p2p.unsupported</c>), a limit was hit, or the connection is closed.</exception>
    public async Task<Libp2pStream> OpenStreamAsync(string protocol, CancellationToken cancellationToken = default)
    {
        MultistreamSelect.ValidateProtocol(protocol);
        var stream = Session.OpenStream();
        stream.Connection = this;
        stream.RemotePeer = RemotePeer;
        LastActivity = _host.Time.GetTimestamp();
        try
        {
            await MultistreamSelect.SelectAsync(stream, protocol, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        stream.Protocol = protocol;
        _host.Metrics.StreamOpened(protocol, outbound: true);
        return stream;
    }

    /// <summary>Runs one <c>/ipfs/ping/1.0.0</c> round trip.</summary>
    /// <exception cref="Libp2pException">The ping failed.</exception>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var stream = await OpenStreamAsync(PingProtocol.ProtocolId, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var rtt = await PingProtocol.PingOnceAsync(stream, _host.Time, cancellationToken).ConfigureAwait(false);
            await stream.CompleteWritingAsync().ConfigureAwait(false);
            return rtt;
        }
    }

    /// <summary>Runs identify now (whatever <see cref="Libp2pHostOptions.IdentifyOnConnect"/> says).</summary>
    /// <exception cref="Libp2pException">The peer does not support identify or broke it.</exception>
    /// <exception cref="Core.Errors.PoIPDecodeException">The identify message is malformed or names another key.</exception>
    public Task<IdentifyInfo> IdentifyAsync(CancellationToken cancellationToken = default) => _host.IdentifyAsync(this, cancellationToken);

    /// <summary>Runs a <c>/perf/1.0.0</c> measurement.</summary>
    /// <exception cref="Libp2pException">The peer does not support perf or the transfer failed.</exception>
    public async Task<PerfResult> PerfAsync(long uploadBytes, long downloadBytes, CancellationToken cancellationToken = default)
    {
        var stream = await OpenStreamAsync(PerfProtocol.ProtocolId, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return await PerfProtocol.RunAsync(stream, uploadBytes, downloadBytes, _host.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the connection (Yamux GoAway, then the socket).</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        await Session.CloseAsync(cancellationToken).ConfigureAwait(false);
        _host.OnConnectionEnded(this, "closed locally");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync().ConfigureAwait(false);
        _host.OnConnectionEnded(this, "disposed");
    }

    /// <inheritdoc />
    public override string ToString() => $"{(IsInbound ? "inbound" : "outbound")} {RemoteAddress}";
}
