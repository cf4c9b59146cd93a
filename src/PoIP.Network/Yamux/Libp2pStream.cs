using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using PoIP.Core.Identity;
using PoIP.Network.Yamux;

namespace PoIP.Network;

/// <summary>
/// One multiplexed (Yamux) stream of a <see cref="Libp2pConnection"/>, after protocol negotiation.
/// Reading and writing are asynchronous only; <see cref="Input"/> and <see cref="Output"/> give
/// System.IO.Pipelines views. Writes wait for the peer's flow-control window (real backpressure);
/// reads return the window to the peer as the data is consumed. <see cref="CompleteWritingAsync"/>
/// half-closes (FIN); <see cref="Reset"/> aborts; disposing closes the write side and resets the
/// stream if the peer has not finished.
/// </summary>
public sealed class Libp2pStream : Stream
{
    private readonly YamuxSession _session;
    // Received segments (guarded by _lock); the reader waits on _readSignal, writers on _windowSignal:
    // both are reused for every wait, so steady-state reading and writing allocate nothing.
    private readonly Queue<(byte[] Buffer, int Length)> _incoming = new(8);
    private readonly Internal.AsyncSignal _readSignal = new();
    private readonly Internal.AsyncSignal _windowSignal = new();
    private readonly Lock _lock = new();
    private readonly int _maxWindow;
    private byte[]? _current;
    private Memory<byte> _pendingRead; // the waiting reader's buffer (guarded by _lock)
    private int _pendingFilled;
    private int _currentOffset;
    private int _currentLength;
    private long _receiveCredit;
    private int _unacknowledged;
    private long _sendWindow = YamuxOptions.InitialWindow;
    private bool _localFin;
    private bool _remoteFin;
    private bool _reset;
    private bool _readAbandoned;
    private Exception? _failure;
    private PipeReader? _input;
    private PipeWriter? _output;

    internal Libp2pStream(YamuxSession session, uint id, bool outbound, int maxWindow)
    {
        _session = session;
        Id = id;
        IsOutbound = outbound;
        _maxWindow = maxWindow;
        _receiveCredit = maxWindow; // the initial 256 KiB plus the delta sent with SYN/ACK
    }

    /// <summary>The Yamux stream id.</summary>
    public uint Id { get; }

    /// <summary>True when this side opened the stream.</summary>
    public bool IsOutbound { get; }

    /// <summary>The negotiated protocol id.</summary>
    public string Protocol { get; internal set; } = string.Empty;

    /// <summary>The peer at the other end.</summary>
    public PeerId RemotePeer { get; internal set; }

    /// <summary>The connection this stream belongs to (null only for streams of a bare muxer).</summary>
    public Libp2pConnection? Connection { get; internal set; }

    /// <summary>A pipe reader over this stream (created on first use; leaves the stream open).</summary>
    public PipeReader Input => _input ??= PipeReader.Create(this, new StreamPipeReaderOptions(bufferSize: 65536, minimumReadSize: 16384, leaveOpen: true));

    /// <summary>A pipe writer over this stream (created on first use; leaves the stream open).</summary>
    public PipeWriter Output => _output ??= PipeWriter.Create(this, new StreamPipeWriterOptions(minimumBufferSize: 65536, leaveOpen: true));

    internal bool AcceptsData
    {
        get
        {
            lock (_lock)
            {
                return !_remoteFin && !_reset && !_readAbandoned;
            }
        }
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    // ------------------------------------------------------------- reading

    /// <inheritdoc />
    /// <exception cref="Libp2pException">The stream was reset or the connection lost.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            int n = CopyQueued(buffer.Span);
            if (n > 0)
            {
                Consumed(n, buffered: true);
                return n;
            }

            lock (_lock)
            {
                if (_incoming.Count > 0)
                {
                    continue;
                }

                if (_reset && !_remoteFin)
                {
                    throw _failure ?? Internal.Errors.Closed($"stream {Id} was reset");
                }

                if (_remoteFin || _reset || _readAbandoned)
                {
                    return 0; // FIN (or a stream that ended after the peer's FIN)
                }

                // While we wait, the read loop may decrypt frames straight into this buffer (see TryBeginDirectRead).
                _pendingRead = buffer;
                _pendingFilled = 0;
                _readSignal.Arm();
            }

            int filled;
            try
            {
                await _readSignal.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                lock (_lock)
                {
                    filled = _pendingFilled;
                    _pendingFilled = 0;
                    _pendingRead = default;
                }
            }

            if (filled > 0)
            {
                Consumed(filled, buffered: false);
                return filled;
            }
        }
    }

    /// <summary>Copies from the received segments into <paramref name="destination"/> until it is full or none is left (reader only).</summary>
    private int CopyQueued(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            if (_current is null)
            {
                lock (_lock)
                {
                    if (!_incoming.TryDequeue(out var segment))
                    {
                        break;
                    }

                    _current = segment.Buffer;
                    _currentOffset = 0;
                    _currentLength = segment.Length;
                }
            }

            int n = Math.Min(destination.Length - total, _currentLength - _currentOffset);
            _current.AsSpan(_currentOffset, n).CopyTo(destination[total..]);
            _currentOffset += n;
            total += n;
            if (_currentOffset == _currentLength)
            {
                Internal.SegmentPool.Return(_current);
                _current = null;
            }
        }

        return total;
    }

    /// <summary>Counts bytes handed to the reader (from segments if <paramref name="buffered"/>, else decrypted in place) and returns window to the peer every half window.</summary>
    private void Consumed(int n, bool buffered)
    {
        if (buffered)
        {
            _session.OnConsumed(n);
        }

        uint delta = 0;
        lock (_lock)
        {
            _unacknowledged += n;
            if (_unacknowledged >= _maxWindow / 2 && !_remoteFin && !_reset && !_readAbandoned)
            {
                delta = (uint)_unacknowledged;
                _receiveCredit += _unacknowledged;
                _unacknowledged = 0;
            }
        }

        if (delta > 0)
        {
            _session.EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.None, Id, delta));
        }
    }

    /// <summary>
    /// Read loop only: when the reader is waiting with room for <paramref name="length"/> more bytes
    /// and nothing is queued before them, takes (claims) the reader and returns where the frame's payload
    /// goes; the caller decrypts it there without waiting, calls <see cref="EndDirectFrame"/>, may add
    /// further frames the same way, and finally calls <see cref="CompleteDirectRead"/> before it waits
    /// for anything. This skips the receive segment and the reader's copy out of it, and wakes the
    /// reader once for several frames. False: use <see cref="OnData"/>.
    /// </summary>
    /// <exception cref="Libp2pException">The frame exceeds the window we granted.</exception>
    internal bool TryBeginDirectRead(int length, bool claimed, out Memory<byte> destination)
    {
        lock (_lock)
        {
            if (length > _receiveCredit)
            {
                throw Internal.Errors.Protocol($"yamux: stream {Id} received {length} bytes beyond its window");
            }

            if (_remoteFin || _reset || _readAbandoned || _incoming.Count > 0 || _pendingRead.Length - _pendingFilled < length
                || !(claimed || _readSignal.TryClaim()))
            {
                destination = default;
                return false;
            }

            _receiveCredit -= length;
            destination = _pendingRead.Slice(_pendingFilled, length);
            return true;
        }
    }

    /// <summary>Read loop only: the payload of a frame begun with <see cref="TryBeginDirectRead"/> is in place.</summary>
    internal void EndDirectFrame(int length)
    {
        lock (_lock)
        {
            _pendingFilled += length;
        }
    }

    /// <summary>Read loop only: wakes the reader claimed by <see cref="TryBeginDirectRead"/>.</summary>
    internal void CompleteDirectRead() => _readSignal.CompleteClaim();

    internal void OnData(byte[] buffer, int length)
    {
        bool accepted;
        lock (_lock)
        {
            if (length > _receiveCredit)
            {
                accepted = false;
            }
            else
            {
                _receiveCredit -= length;
                accepted = true;
            }
        }

        if (!accepted)
        {
            Internal.SegmentPool.Return(buffer);
            _session.OnConsumed(length);
            throw Internal.Errors.Protocol($"yamux: stream {Id} received {length} bytes beyond its window");
        }

        bool queued;
        lock (_lock)
        {
            queued = !_remoteFin && !_reset && !_readAbandoned;
            if (queued)
            {
                _incoming.Enqueue((buffer, length));
            }
        }

        if (queued)
        {
            _readSignal.Set();
        }
        else
        {
            Internal.SegmentPool.Return(buffer);
            _session.OnConsumed(length);
        }
    }

    internal void OnRemoteFin()
    {
        bool remove;
        lock (_lock)
        {
            _remoteFin = true;
            remove = _localFin;
        }

        _readSignal.Set();
        if (remove)
        {
            _session.RemoveStream(this);
        }
    }

    internal void OnReset()
    {
        Fail(new Libp2pException(Libp2pErrorCodes.Closed, $"stream {Id} was reset by the peer"));
        _session.RemoveStream(this);
    }

    internal void OnSessionClosed(Libp2pException error) => Fail(error);

    private void Fail(Exception error)
    {
        lock (_lock)
        {
            _reset = true;
            _failure ??= error;
        }

        _readSignal.Set();
        _windowSignal.Set();
        DrainIncoming();
    }

    private void DrainIncoming()
    {
        // Unread data of a dead stream goes back to the pool (the reader may still hold _current).
        while (true)
        {
            (byte[] Buffer, int Length) segment;
            lock (_lock)
            {
                if (!_incoming.TryDequeue(out segment))
                {
                    return;
                }
            }

            Internal.SegmentPool.Return(segment.Buffer);
            _session.OnConsumed(segment.Length);
        }
    }

    // ------------------------------------------------------------- writing

    internal void OnWindowUpdate(uint delta)
    {
        lock (_lock)
        {
            _sendWindow += delta;
            if (_sendWindow > int.MaxValue)
            {
                throw Internal.Errors.Protocol($"yamux: stream {Id} window above 2^31");
            }
        }

        _windowSignal.Set();
    }

    /// <inheritdoc />
    /// <exception cref="Libp2pException">The stream was reset, half-closed or the connection lost.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int credit;
            lock (_lock)
            {
                if (_reset)
                {
                    throw _failure ?? Internal.Errors.Closed($"stream {Id} was reset");
                }

                if (_localFin)
                {
                    throw Internal.Errors.Closed($"stream {Id} is closed for writing");
                }

                credit = (int)Math.Min(Math.Min(_sendWindow, buffer.Length), YamuxSession.MaxWriteBatch);
                if (credit == 0)
                {
                    _windowSignal.Arm(); // one writer at a time (a second concurrent writer gets InvalidOperationException)
                }
                else
                {
                    _sendWindow -= credit;
                }
            }

            if (credit == 0)
            {
                await _windowSignal.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            await _session.WriteDataAsync(Id, buffer[..credit], YamuxFlags.None, cancellationToken).ConfigureAwait(false);
            buffer = buffer[credit..];
        }
    }

    /// <summary>Half-closes: the peer reads end of stream after the data already written.</summary>
    public ValueTask CompleteWritingAsync()
    {
        bool remove;
        lock (_lock)
        {
            if (_localFin || _reset)
            {
                return ValueTask.CompletedTask;
            }

            _localFin = true;
            remove = _remoteFin;
        }

        _session.EnqueueControl(new YamuxHeader(YamuxType.Data, YamuxFlags.Fin, Id, 0));
        if (remove)
        {
            _session.RemoveStream(this);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Aborts the stream in both directions (RST).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            if (_reset)
            {
                return;
            }
        }

        Fail(Internal.Errors.Closed($"stream {Id} was reset locally"));
        _session.EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Rst, Id, 0));
        _session.RemoveStream(this);
    }

    /// <summary>
    /// Closes the write side (FIN) and stops reading: data the peer still sends is dropped and its
    /// window returned at once, so the peer can finish; the stream leaves the connection when the
    /// peer half-closes too. Use <see cref="Reset"/> to abort instead.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        if (_output is not null)
        {
            await _output.CompleteAsync().ConfigureAwait(false);
        }

        await CompleteWritingAsync().ConfigureAwait(false);
        lock (_lock)
        {
            _readAbandoned = true;
        }

        if (_current is not null)
        {
            Internal.SegmentPool.Return(_current);
            _session.OnConsumed(_currentLength - _currentOffset);
            _current = null;
        }

        DrainIncoming();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>True while a read is parked waiting for data (tests use it to order steps without timing).</summary>
    internal bool IsReaderWaiting => _readSignal.IsArmed;

    internal bool IsReadAbandoned
    {
        get
        {
            lock (_lock)
            {
                return _readAbandoned && !_remoteFin && !_reset;
            }
        }
    }

    /// <summary>Data for a stream nobody reads any more: check the window, then give it straight back.</summary>
    internal void OnDiscarded(int length)
    {
        lock (_lock)
        {
            if (length > _receiveCredit)
            {
                throw Internal.Errors.Protocol($"yamux: stream {Id} received {length} bytes beyond its window");
            }
        }

        _session.EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.None, Id, (uint)length));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_lock)
            {
                _readAbandoned = true;
            }
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Not supported: use <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Libp2p streams are asynchronous; use ReadAsync.");

    /// <summary>Not supported: use <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Libp2p streams are asynchronous; use WriteAsync.");

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();
}
