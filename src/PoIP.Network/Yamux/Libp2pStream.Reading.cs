using System.Runtime.CompilerServices;
using PoIP.Network.Yamux;

namespace PoIP.Network;

public sealed partial class Libp2pStream
{
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
}
