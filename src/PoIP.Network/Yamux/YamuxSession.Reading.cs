using System.Buffers;
using System.Runtime.CompilerServices;
using PoIP.Network.Internal;

namespace PoIP.Network.Yamux;

internal sealed partial class YamuxSession
{
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
}
