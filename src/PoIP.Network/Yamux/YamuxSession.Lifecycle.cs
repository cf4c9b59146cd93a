using PoIP.Network.Internal;

namespace PoIP.Network.Yamux;

internal sealed partial class YamuxSession
{
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
