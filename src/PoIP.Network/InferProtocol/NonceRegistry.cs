using PoIP.Core.Identity;

namespace PoIP.Network.InferProtocol;

/// <summary>
/// Remembers (client, nonce) pairs until their request expires, so a signed request can be served
/// once only. Bounded: when full, the oldest-expiring entries that have expired are evicted; if
/// none has, new requests are refused (never forget a live nonce). Thread-safe.
/// </summary>
internal sealed class NonceRegistry
{
    private readonly Dictionary<(PeerId Client, ulong Nonce), DateTimeOffset> _seen = [];
    private readonly PriorityQueue<(PeerId Client, ulong Nonce), DateTimeOffset> _byExpiry = new();
    private readonly int _capacity;
    private readonly Lock _lock = new();

    public NonceRegistry(int capacity) => _capacity = capacity;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>Records the pair; false when it was already seen (replay) or the registry is full of live entries.</summary>
    public bool TryRecord(PeerId client, ulong nonce, DateTimeOffset expiresAt, DateTimeOffset now, out bool full)
    {
        lock (_lock)
        {
            full = false;
            while (_byExpiry.TryPeek(out var oldest, out var expiry) && expiry < now)
            {
                _byExpiry.Dequeue();
                _seen.Remove(oldest);
            }

            if (_seen.ContainsKey((client, nonce)))
            {
                return false;
            }

            if (_seen.Count >= _capacity)
            {
                full = true;
                return false;
            }

            _seen.Add((client, nonce), expiresAt);
            _byExpiry.Enqueue((client, nonce), expiresAt);
            return true;
        }
    }
}
