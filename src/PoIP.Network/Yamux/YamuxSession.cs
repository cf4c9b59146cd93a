using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PoIP.Network.Internal;

namespace PoIP.Network.Yamux;

/// <summary>
/// One Yamux session over a secured connection: a read loop that dispatches frames, a write lock
/// that serialises frames, and a bounded queue of control frames (ping answers, window updates,
/// resets) that the read loop never blocks on. Every resource a peer can grow is bounded by
/// <see cref="YamuxOptions"/>.
/// </summary>
internal sealed partial class YamuxSession : IAsyncDisposable
{
    public const string ProtocolId = "/yamux/1.0.0";

    /// <summary>
    /// Largest data payload we put in one frame: one Noise frame's plaintext. The transport sends a bulk
    /// frame's header in a Noise frame of its own, so the payload is encrypted straight from the caller's
    /// buffer and the peer decrypts it straight into the receive segment (no copy on either side).
    /// </summary>
    public const int MaxFrameData = Noise.NoiseSecureStream.MaxPlaintext;

    /// <summary>Most data one <see cref="WriteDataAsync"/> call takes: one socket write of frames (fewer sends, and the write lock is not held across several).</summary>
    public const int MaxWriteBatch = Noise.NoiseSecureStream.WriteBatch;

    /// <summary>Largest data frame we accept (bounded anyway by the window we granted).</summary>
    public const int MaxIncomingFrame = 16 * 1024 * 1024;

    private const uint GoAwayNormal = 0;
    private const uint GoAwayProtocolError = 1;

    private readonly IFrameTransport _transport;
    private readonly YamuxOptions _options;
    private readonly bool _isClient;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Func<Libp2pStream, Task> _onInbound;
    private readonly Dictionary<uint, Libp2pStream> _streams = [];
    private readonly Lock _streamsLock = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Queue<YamuxHeader> _control = new();
    private readonly Lock _controlLock = new();
    private readonly byte[] _writeHeader = new byte[YamuxHeader.Size];
    private readonly byte[] _controlHeaders = new byte[64 * YamuxHeader.Size];
    private readonly Dictionary<uint, (TaskCompletionSource<TimeSpan> Tcs, long Started)> _pings = [];
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private uint _nextStreamId;
    private uint _nextPingId;
    private int _inboundCount;
    private int _outboundCount;
    private int _refusedInARow;
    private long _buffered;
    private bool _remoteGoAway;
    private int _closed;
    private ITimer? _keepAlive;
    private uint _keepAlivePing;
    private long _keepAliveSentAt;
    private Task _readLoop = Task.CompletedTask;
    private long _framesInPlace; // written by the read loop only
    private Libp2pStream? _claimed; // a reader being filled in place by the read loop (read loop only)

    public YamuxSession(IFrameTransport transport, bool isClient, YamuxOptions options, Func<Libp2pStream, Task> onInbound, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        options.Validate();
        _transport = transport;
        _isClient = isClient;
        _options = options;
        _onInbound = onInbound;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _nextStreamId = isClient ? 1u : 2u;
    }

    /// <summary>Called for every inbound stream refused (over <see cref="YamuxOptions.MaxInboundStreams"/>); the host counts it.</summary>
    public Action? StreamRefused { get; set; }

    /// <summary>Completes when the session has ended (its exception is the cause, if any).</summary>
    public Task Completion => _completion.Task;

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public YamuxOptions Options => _options;

    /// <summary>Number of open streams (both directions).</summary>
    public int StreamCount
    {
        get
        {
            lock (_streamsLock)
            {
                return _streams.Count;
            }
        }
    }

    public long BufferedBytes => Interlocked.Read(ref _buffered);

    /// <summary>Data frames decrypted straight into a waiting reader's buffer (tests and diagnostics).</summary>
    public long FramesDecryptedInPlace => Volatile.Read(ref _framesInPlace);

    public void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        if (_options.KeepAliveInterval > TimeSpan.Zero)
        {
            _keepAlive = _time.CreateTimer(_ => KeepAliveTick(), null, _options.KeepAliveInterval, _options.KeepAliveInterval);
        }
    }

    /// <summary>Opens an outbound stream (SYN sent at once; data may follow before the ACK).</summary>
    public Libp2pStream OpenStream()
    {
        uint id;
        Libp2pStream stream;
        lock (_streamsLock)
        {
            if (IsClosed)
            {
                throw Errors.Closed("yamux: session is closed");
            }

            if (_remoteGoAway)
            {
                throw Errors.Closed("yamux: peer sent GoAway");
            }

            if (_outboundCount >= _options.MaxOutboundStreams)
            {
                throw Errors.Limit($"yamux: {_options.MaxOutboundStreams} outbound streams already open");
            }

            if (_nextStreamId > uint.MaxValue - 2)
            {
                throw Errors.Limit("yamux: stream ids exhausted");
            }

            id = _nextStreamId;
            _nextStreamId += 2;
            stream = new Libp2pStream(this, id, outbound: true, _options.MaxStreamWindow);
            _streams.Add(id, stream);
            _outboundCount++;
        }

        EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Syn, id, (uint)(_options.MaxStreamWindow - YamuxOptions.InitialWindow)));
        return stream;
    }

    /// <summary>Measures a round trip with a Yamux ping.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        uint opaque;
        lock (_pings)
        {
            if (_pings.Count >= 16)
            {
                throw Errors.Limit("yamux: too many pings in flight");
            }

            opaque = ++_nextPingId;
            _pings[opaque] = (tcs, _time.GetTimestamp());
        }

        EnqueueControl(new YamuxHeader(YamuxType.Ping, YamuxFlags.Syn, 0, opaque));
        try
        {
            return await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_pings)
            {
                _pings.Remove(opaque);
            }
        }
    }

    // ---------------------------------------------------------------- writing

    /// <summary>Writes data frames for a stream (payload split into frames), then pending control frames, then flushes.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask WriteDataAsync(uint streamId, ReadOnlyMemory<byte> data, YamuxFlags flags, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsClosed)
            {
                throw Errors.Closed("yamux: session is closed");
            }

            // Pending control frames go first: a new stream's SYN (queued by OpenStream while another
            // writer held the lock) must precede its first data frame, or the peer drops the data of
            // a stream it does not know yet and the stream stalls.
            await WriteControlLockedAsync(cancellationToken).ConfigureAwait(false);
            do
            {
                int chunk = Math.Min(data.Length, MaxFrameData);
                var last = chunk == data.Length;
                new YamuxHeader(YamuxType.Data, last ? flags : YamuxFlags.None, streamId, (uint)chunk).Write(_writeHeader);
                await _transport.WriteAsync(_writeHeader, data[..chunk], flush: false, cancellationToken).ConfigureAwait(false);
                data = data[chunk..];
            }
            while (!data.IsEmpty);

            await WriteControlLockedAsync(cancellationToken).ConfigureAwait(false);
            await _transport.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            Abort(ex);
            throw Errors.Closed("yamux: connection lost while writing");
        }
        finally
        {
            _writeLock.Release();
        }

        TryFlushControl();
    }

    internal void EnqueueControl(YamuxHeader header)
    {
        lock (_controlLock)
        {
            if (_control.Count >= _options.MaxPendingControlFrames)
            {
                // The peer makes us answer faster than it reads: bounded, so drop the connection.
                _ = Task.Run(() => Abort(Errors.Limit("yamux: control queue full (peer not reading)")));
                return;
            }

            _control.Enqueue(header);
        }

        TryFlushControl();
    }

    private void TryFlushControl()
    {
        while (!IsClosed)
        {
            lock (_controlLock)
            {
                if (_control.Count == 0)
                {
                    return;
                }
            }

            if (!_writeLock.Wait(0))
            {
                return; // the holder drains the queue before releasing, then re-checks
            }

            _ = FlushControlAndReleaseAsync();
            return;
        }
    }

    private async Task FlushControlAndReleaseAsync()
    {
        try
        {
            await WriteControlLockedAsync(CancellationToken.None).ConfigureAwait(false);
            await _transport.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Abort(ex);
        }
        finally
        {
            _writeLock.Release();
        }

        TryFlushControl();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteControlLockedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int count = 0;
            lock (_controlLock)
            {
                while (count < 64 && _control.TryDequeue(out var header))
                {
                    header.Write(_controlHeaders.AsSpan(count * YamuxHeader.Size));
                    count++;
                }
            }

            if (count == 0)
            {
                return;
            }

            await _transport.WriteAsync(_controlHeaders.AsMemory(0, count * YamuxHeader.Size), ReadOnlyMemory<byte>.Empty, flush: false, cancellationToken).ConfigureAwait(false);
        }
    }
}
