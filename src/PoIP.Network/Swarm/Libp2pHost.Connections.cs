using NSec.Cryptography;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Internal;

namespace PoIP.Network;

public sealed partial class Libp2pHost
{
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

    /// <summary>
    /// How long a second connection to a peer may sit without streams before it is closed: both sides
    /// open new streams on the same one of them (<see cref="PreferredConnection"/>), so the other goes idle.
    /// </summary>
    internal static readonly TimeSpan RedundantIdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Under the lock: the open connection to <paramref name="peer"/> that both sides pick when there are
    /// several (two peers that dialled each other at once): one dialled by the peer whose id sorts first
    /// (outbound here when that is this host), the oldest of those; null when none is open.
    /// </summary>
    private Libp2pConnection? PreferredConnection(PeerId peer)
    {
        bool weDialFirst = PeerId.Bytes.SequenceCompareTo(peer.Bytes) < 0;
        Libp2pConnection? best = null;
        foreach (var c in _connections)
        {
            if (c.RemotePeer == peer && !c.IsClosed && (best is null || (best.IsInbound == weDialFirst && c.IsInbound != weDialFirst)))
            {
                best = c;
            }
        }

        return best;
    }

    /// <summary>Closes connections without streams idle past <see cref="Libp2pHostOptions.IdleTimeout"/>, and redundant ones idle past <see cref="RedundantIdleTimeout"/>.</summary>
    private void CloseIdleConnections()
    {
        List<Libp2pConnection> idle = [];
        lock (_connectionsLock)
        {
            foreach (var c in _connections)
            {
                if (c.StreamCount != 0)
                {
                    continue;
                }

                var quiet = Time.GetElapsedTime(c.LastActivity);
                if (quiet >= _options.IdleTimeout || (quiet >= RedundantIdleTimeout && PreferredConnection(c.RemotePeer) is { } kept && kept != c))
                {
                    idle.Add(c);
                }
            }
        }

        foreach (var c in idle)
        {
            Log.IdleClose(_logger, c.RemotePeer.ToString());
            _ = c.CloseAsync();
        }
    }
}
