using System.Runtime.CompilerServices;
using PoIP.Network.Yamux;

namespace PoIP.Network;

public sealed partial class Libp2pStream
{
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
