using PoIP.Core.Identity;

namespace PoIP.Network.Kademlia;

/// <summary>
/// A token bucket per remote peer on the injected clock. Bounded: beyond <see cref="MaxPeers"/> tracked peers
/// the full (idle) buckets are forgotten first.
/// </summary>
internal sealed class PeerRateLimiter(double perSecond, int burst, TimeProvider time)
{
    public const int MaxPeers = 4096;
    private readonly Dictionary<PeerId, (double Tokens, long Stamp)> _buckets = [];
    private readonly Lock _lock = new();

    public bool TryAcquire(PeerId peer)
    {
        long now = time.GetTimestamp();
        lock (_lock)
        {
            double tokens = TokensAt(peer, now);
            if (tokens < 1)
            {
                _buckets[peer] = (tokens, now);
                return false;
            }

            _buckets[peer] = (tokens - 1, now);
            return true;
        }
    }

    /// <summary>
    /// Reserves one request to <paramref name="peer"/>: the wait until its bucket holds the token (zero when it holds
    /// one now), or false, reserving nothing, when that wait would exceed <paramref name="maxWait"/>. The sending side of
    /// <see cref="TryAcquire"/>: a sender that waits as told never exceeds the same budget on the receiving side.
    /// </summary>
    public bool TryReserve(PeerId peer, TimeSpan maxWait, out TimeSpan wait)
    {
        long now = time.GetTimestamp();
        lock (_lock)
        {
            double tokens = TokensAt(peer, now);
            wait = tokens >= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - tokens) / perSecond);
            if (wait > maxWait)
            {
                return false;
            }

            _buckets[peer] = (tokens - 1, now); // below zero while reservations wait: each waits for its own token
            return true;
        }
    }

    /// <summary>The peer's tokens now (a new peer's bucket is full; tracking one more may trim idle ones). Under the lock.</summary>
    private double TokensAt(PeerId peer, long now)
    {
        if (_buckets.TryGetValue(peer, out var b))
        {
            return Math.Min(burst, b.Tokens + (time.GetElapsedTime(b.Stamp, now).TotalSeconds * perSecond));
        }

        if (_buckets.Count >= MaxPeers)
        {
            Trim(now);
        }

        return burst;
    }

    private void Trim(long now)
    {
        foreach (var (peer, b) in _buckets.ToList())
        {
            if (b.Tokens + (time.GetElapsedTime(b.Stamp, now).TotalSeconds * perSecond) >= burst)
            {
                _buckets.Remove(peer);
            }
        }

        if (_buckets.Count >= MaxPeers)
        {
            _buckets.Remove(_buckets.Keys.First());
        }
    }
}
