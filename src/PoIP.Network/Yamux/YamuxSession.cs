using System.Buffers;
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
internal sealed class YamuxSession : IAsyncDisposable
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

    // ---------------------------------------------------------------- reading

    private async Task ReadLoopAsync()
    {
        byte[] headerBytes = new byte[YamuxHeader.Size];
        Exception? failure = null;
        try
        {
            try
            {
                while (true)
                {
                    // A claimed reader is woken before the loop waits for the network.
                    if (_claimed is not null && !_transport.HasBuffered(YamuxHeader.Size))
                    {
                        CompleteClaim();
                    }

                    if (!await ReadExactAsync(headerBytes, allowEnd: true).ConfigureAwait(false))
                    {
                        break;
                    }

                    var header = YamuxHeader.Read(headerBytes);
                    if (_claimed is not null && (header.Type != YamuxType.Data || header.StreamId != _claimed.Id))
                    {
                        CompleteClaim();
                    }

                    switch (header.Type)
                    {
                        case YamuxType.Data:
                            await HandleDataAsync(header).ConfigureAwait(false);
                            break;
                        case YamuxType.WindowUpdate:
                            HandleWindowUpdate(header);
                            break;
                        case YamuxType.Ping:
                            HandlePing(header);
                            break;
                        case YamuxType.GoAway:
                            lock (_streamsLock)
                            {
                                _remoteGoAway = true;
                            }

                            Log.YamuxGoAway(_logger, header.Length);
                            break;
                    }
                }
            }
            finally
            {
                CompleteClaim();
            }
        }
        catch (Libp2pException ex) when (ex.Code is Libp2pErrorCodes.ProtocolViolation or Libp2pErrorCodes.LimitExceeded)
        {
            failure = ex;
            Log.YamuxViolation(_logger, ex.Message);
            await SendGoAwayBestEffortAsync(GoAwayProtocolError).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        Abort(failure);
    }

    /// <summary>Wakes the reader that frames were decrypted into, if any (read loop only).</summary>
    private void CompleteClaim()
    {
        var stream = _claimed;
        if (stream is not null)
        {
            _claimed = null;
            stream.CompleteDirectRead();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReadExactAsync(Memory<byte> buffer, bool allowEnd)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await _transport.ReadAsync(buffer[read..], _closing.Token).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0 && allowEnd)
                {
                    return false;
                }

                throw Errors.Closed("yamux: connection closed inside a frame");
            }

            read += n;
        }

        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask HandleDataAsync(YamuxHeader header)
    {
        if (header.Length > MaxIncomingFrame)
        {
            throw Errors.Protocol($"yamux: data frame of {header.Length} bytes");
        }

        var stream = LookupOrAccept(header);
        int length = (int)header.Length;
        if (length > 0)
        {
            if (stream is null || !stream.AcceptsData)
            {
                CompleteClaim();
                if (stream is not null && stream.IsReadAbandoned)
                {
                    stream.OnDiscarded(length);
                }

                await DiscardAsync(length).ConfigureAwait(false);
            }
            else if (_transport.HasBuffered(length) && stream.TryBeginDirectRead(length, claimed: ReferenceEquals(_claimed, stream), out var destination))
            {
                // The whole payload is here and the reader waits with room: decrypt it into the reader's
                // buffer (no segment, no copy); the reader is woken before the loop next waits.
                _claimed = stream;
                _transport.ReadBuffered(destination.Span);
                stream.EndDirectFrame(length);
                Volatile.Write(ref _framesInPlace, _framesInPlace + 1);
            }
            else
            {
                CompleteClaim();
                byte[] buffer = SegmentPool.Rent(length);
                try
                {
                    await ReadExactAsync(buffer.AsMemory(0, length), allowEnd: false).ConfigureAwait(false);
                }
                catch
                {
                    SegmentPool.Return(buffer);
                    throw;
                }

                if (Interlocked.Add(ref _buffered, length) > _options.MaxBufferedBytes)
                {
                    SegmentPool.Return(buffer);
                    throw Errors.Limit($"yamux: more than {_options.MaxBufferedBytes} unread bytes buffered");
                }

                stream.OnData(buffer, length); // throws on a window violation
            }
        }

        ApplyFlags(stream, header.Flags);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DiscardAsync(int length)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(Math.Min(length, 65536));
        try
        {
            while (length > 0)
            {
                int n = Math.Min(length, scratch.Length);
                await ReadExactAsync(scratch.AsMemory(0, n), allowEnd: false).ConfigureAwait(false);
                length -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private void HandleWindowUpdate(YamuxHeader header)
    {
        var stream = LookupOrAccept(header);
        if (stream is not null && header.Length > 0)
        {
            stream.OnWindowUpdate(header.Length);
        }

        ApplyFlags(stream, header.Flags);
    }

    private static void ApplyFlags(Libp2pStream? stream, YamuxFlags flags)
    {
        if (stream is null)
        {
            return;
        }

        if ((flags & YamuxFlags.Rst) != 0)
        {
            stream.OnReset();
        }
        else if ((flags & YamuxFlags.Fin) != 0)
        {
            stream.OnRemoteFin();
        }
    }

    private void HandlePing(YamuxHeader header)
    {
        if (header.StreamId != 0)
        {
            throw Errors.Protocol("yamux: ping on a stream");
        }

        if ((header.Flags & YamuxFlags.Syn) != 0)
        {
            EnqueueControl(new YamuxHeader(YamuxType.Ping, YamuxFlags.Ack, 0, header.Length));
            return;
        }

        if ((header.Flags & YamuxFlags.Ack) != 0)
        {
            long now = _time.GetTimestamp();
            if (header.Length == Volatile.Read(ref _keepAlivePing))
            {
                Interlocked.Exchange(ref _keepAliveSentAt, 0);
            }

            TaskCompletionSource<TimeSpan>? tcs = null;
            long started = 0;
            lock (_pings)
            {
                if (_pings.Remove(header.Length, out var entry))
                {
                    (tcs, started) = entry;
                }
            }

            tcs?.TrySetResult(_time.GetElapsedTime(started, now));
        }
    }

    private Libp2pStream? LookupOrAccept(YamuxHeader header)
    {
        uint id = header.StreamId;
        if (id == 0)
        {
            throw Errors.Protocol("yamux: stream frame on stream 0");
        }

        Libp2pStream? stream;
        bool accepted = false;
        lock (_streamsLock)
        {
            _streams.TryGetValue(id, out stream);
            if ((header.Flags & YamuxFlags.Syn) != 0)
            {
                if (stream is not null)
                {
                    throw Errors.Protocol($"yamux: SYN for open stream {id}");
                }

                bool remoteParity = (id % 2 == 1) != _isClient;
                if (!remoteParity)
                {
                    throw Errors.Protocol($"yamux: peer opened stream {id} with our parity");
                }

                if (_inboundCount >= _options.MaxInboundStreams || _remoteGoAway || IsClosed)
                {
                    Log.YamuxStreamRefused(_logger, id, _options.MaxInboundStreams);
                    StreamRefused?.Invoke();
                    if (++_refusedInARow > _options.MaxRefusedStreamsInARow)
                    {
                        // A peer that keeps opening streams past the limit is flooding: the read loop ends the session (GoAway, protocol error).
                        throw Errors.Limit($"yamux: peer opened {_refusedInARow} streams in a row past the limit of {_options.MaxInboundStreams}");
                    }

                    EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Rst, id, 0));
                    return null;
                }

                _refusedInARow = 0;

                stream = new Libp2pStream(this, id, outbound: false, _options.MaxStreamWindow);
                _streams.Add(id, stream);
                _inboundCount++;
                accepted = true;
            }
        }

        if (accepted)
        {
            EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Ack, id, (uint)(_options.MaxStreamWindow - YamuxOptions.InitialWindow)));
            _ = DispatchInboundAsync(stream!);
        }

        return stream;
    }

    private async Task DispatchInboundAsync(Libp2pStream stream)
    {
        await Task.Yield();
        try
        {
            await _onInbound(stream).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.InboundStreamFailed(_logger, stream.Id, ex.Message);
            stream.Reset();
        }
    }

    // ---------------------------------------------------------------- stream callbacks

    internal void OnConsumed(int bytes) => Interlocked.Add(ref _buffered, -bytes);

    internal void RemoveStream(Libp2pStream stream)
    {
        lock (_streamsLock)
        {
            if (_streams.Remove(stream.Id))
            {
                if (stream.IsOutbound)
                {
                    _outboundCount--;
                }
                else
                {
                    _inboundCount--;
                }
            }
        }
    }

    // ---------------------------------------------------------------- keep-alive and closing

    private void KeepAliveTick()
    {
        if (IsClosed)
        {
            return;
        }

        long sentAt = Interlocked.Read(ref _keepAliveSentAt);
        if (sentAt != 0)
        {
            if (_time.GetElapsedTime(sentAt) > _options.PingTimeout)
            {
                Log.KeepAliveTimeout(_logger);
                Abort(new Libp2pException(Libp2pErrorCodes.Timeout, "yamux: keep-alive ping unanswered"));
            }

            return;
        }

        uint opaque = unchecked((uint)_time.GetTimestamp()) | 0x80000000u;
        Volatile.Write(ref _keepAlivePing, opaque);
        Interlocked.Exchange(ref _keepAliveSentAt, _time.GetTimestamp());
        EnqueueControl(new YamuxHeader(YamuxType.Ping, YamuxFlags.Syn, 0, opaque));
    }

    /// <summary>Sends GoAway, flushes what is queued (bounded by <paramref name="cancellationToken"/>), then closes.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (IsClosed)
        {
            return;
        }

        await SendGoAwayBestEffortAsync(GoAwayNormal, cancellationToken).ConfigureAwait(false);
        Abort(null);
        try
        {
            await _readLoop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // already aborted; the loop ends when the transport is disposed
        }
    }

    private async Task SendGoAwayBestEffortAsync(uint code, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await _writeLock.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            lock (_controlLock)
            {
                _control.Enqueue(new YamuxHeader(YamuxType.GoAway, YamuxFlags.None, 0, code));
            }

            await WriteControlLockedAsync(timeout.Token).ConfigureAwait(false);
            await _transport.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or Libp2pException or System.Net.Sockets.SocketException)
        {
            // best effort
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Ends the session now: streams fail, the transport is disposed.</summary>
    public void Abort(Exception? cause)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _keepAlive?.Dispose();
        _closing.Cancel();
        _transport.Dispose();
        Libp2pStream[] streams;
        lock (_streamsLock)
        {
            streams = [.. _streams.Values];
            _streams.Clear();
        }

        var error = cause as Libp2pException ?? Errors.Closed(cause is null ? "connection closed" : "connection lost: " + cause.Message);
        try
        {
            foreach (var s in streams)
            {
                s.OnSessionClosed(error);
            }

            lock (_pings)
            {
                foreach (var (tcs, _) in _pings.Values)
                {
                    tcs.TrySetException(error);
                }

                _pings.Clear();
            }
        }
        finally
        {
            // Whatever happens above, the session must be seen as ended.
            if (cause is null || cause is OperationCanceledException)
            {
                _completion.TrySetResult();
            }
            else
            {
                _completion.TrySetException(cause);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await CloseAsync(cts.Token).ConfigureAwait(false);
        _closing.Dispose();
    }
}
