using PoIP.Core.Identity;
using PoIP.Network.Addressing;

namespace PoIP.Network.Kademlia;

/// <summary>
/// A stored value record. <paramref name="Received"/> is when its originator last put it (expiry counts from it; a
/// replica carries it along); <see cref="LastPut"/> is when a put of it last reached this peer (replication waits
/// for that to age; not persisted).
/// </summary>
internal sealed record StoredValue(byte[] Key, byte[] Value, PeerId From, DateTimeOffset Received)
{
    public DateTimeOffset LastPut { get; init; } = Received;
}

/// <summary>A stored provider entry.</summary>
internal sealed record StoredProvider(byte[] Key, PeerId Provider, IReadOnlyList<Multiaddr> Addresses, DateTimeOffset Received);

/// <summary>Why the store did not take a record.</summary>
internal enum StoreRefusal
{
    None,
    StoreFull,
    PeerQuota,
    KeyFull,
}

/// <summary>
/// Value and provider records with limits in total, per peer and per key, and expiry. In memory, written
/// through to SQLite when a persistence is given (and loaded from it at start). Thread-safe.
/// </summary>
internal sealed class KadRecordStore : IDisposable
{
    private readonly Dictionary<byte[], StoredValue> _values = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], Dictionary<PeerId, StoredProvider>> _providers = new(ByteArrayComparer.Instance);
    private readonly Dictionary<PeerId, int> _valuesByPeer = [];
    private readonly Dictionary<PeerId, int> _providerKeysByPeer = [];
    private readonly Lock _lock = new();
    private readonly KademliaOptions _options;
    private readonly SqliteKadPersistence? _persistence;
    private int _providerCount;

    public KadRecordStore(KademliaOptions options, SqliteKadPersistence? persistence, DateTimeOffset now)
    {
        _options = options;
        _persistence = persistence;
        if (persistence is not null)
        {
            foreach (var v in persistence.LoadValues())
            {
                if (!IsExpired(v.Received, now))
                {
                    PutLocked(v, persist: false);
                }
            }

            foreach (var p in persistence.LoadProviders())
            {
                if (!IsExpired(p.Received, now))
                {
                    AddProviderLocked(p, persist: false);
                }
            }
        }
    }

    public int ValueCount
    {
        get
        {
            lock (_lock)
            {
                return _values.Count;
            }
        }
    }

    public int ProviderCount
    {
        get
        {
            lock (_lock)
            {
                return _providerCount;
            }
        }
    }

    /// <summary>Every stored value, expired or not (a snapshot).</summary>
    public List<StoredValue> AllValues()
    {
        lock (_lock)
        {
            return [.. _values.Values];
        }
    }

    /// <summary>Every provider entry, expired or not (a snapshot).</summary>
    public List<StoredProvider> AllProviders()
    {
        lock (_lock)
        {
            return [.. _providers.Values.SelectMany(p => p.Values)];
        }
    }

    public StoredValue? GetValue(ReadOnlySpan<byte> key, DateTimeOffset now)
    {
        byte[] k = key.ToArray();
        lock (_lock)
        {
            if (!_values.TryGetValue(k, out var v))
            {
                return null;
            }

            if (IsExpired(v.Received, now))
            {
                RemoveValueLocked(k);
                return null;
            }

            return v;
        }
    }

    /// <summary>Stores (or replaces) the value under its key.</summary>
    public StoreRefusal PutValue(StoredValue value)
    {
        lock (_lock)
        {
            bool replacing = _values.TryGetValue(value.Key, out var old);
            if (!replacing && _values.Count >= _options.MaxRecords)
            {
                return StoreRefusal.StoreFull;
            }

            bool samePeer = replacing && old!.From == value.From;
            if (!samePeer && _valuesByPeer.GetValueOrDefault(value.From) >= _options.MaxRecordsPerPeer)
            {
                return StoreRefusal.PeerQuota;
            }

            PutLocked(value, persist: true);
            return StoreRefusal.None;
        }
    }

    /// <summary>The stored values not put by <paramref name="self"/> whose last put is older than <paramref name="before"/>.</summary>
    public List<StoredValue> ValuesToReplicate(PeerId self, DateTimeOffset before, DateTimeOffset now)
    {
        lock (_lock)
        {
            return [.. _values.Values.Where(v => v.From != self && v.LastPut <= before && !IsExpired(v.Received, now))];
        }
    }

    /// <summary>Notes that this peer has just re-put <paramref name="key"/> itself.</summary>
    public void Touch(byte[] key, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_values.TryGetValue(key, out var v))
            {
                _values[key] = v with { LastPut = now };
            }
        }
    }

    public void RemoveValue(ReadOnlySpan<byte> key)
    {
        lock (_lock)
        {
            RemoveValueLocked(key.ToArray());
        }
    }

    public StoreRefusal AddProvider(StoredProvider provider)
    {
        lock (_lock)
        {
            bool known = _providers.TryGetValue(provider.Key, out var set) && set.ContainsKey(provider.Provider);
            if (!known)
            {
                if (_providerCount >= _options.MaxProviderRecords)
                {
                    return StoreRefusal.StoreFull;
                }

                if (set is not null && set.Count >= _options.MaxProvidersPerKey)
                {
                    return StoreRefusal.KeyFull;
                }

                if (_providerKeysByPeer.GetValueOrDefault(provider.Provider) >= _options.MaxProviderKeysPerPeer)
                {
                    return StoreRefusal.PeerQuota;
                }
            }

            AddProviderLocked(provider, persist: true);
            return StoreRefusal.None;
        }
    }

    public List<StoredProvider> GetProviders(ReadOnlySpan<byte> key, DateTimeOffset now, int max)
    {
        byte[] k = key.ToArray();
        lock (_lock)
        {
            if (!_providers.TryGetValue(k, out var set))
            {
                return [];
            }

            var result = new List<StoredProvider>();
            foreach (var p in set.Values.ToList())
            {
                if (IsExpired(p.Received, now))
                {
                    RemoveProviderLocked(k, set, p.Provider);
                }
                else if (result.Count < max)
                {
                    result.Add(p);
                }
            }

            return result;
        }
    }

    /// <summary>Drops every expired record.</summary>
    public int Sweep(DateTimeOffset now)
    {
        int removed = 0;
        lock (_lock)
        {
            foreach (var v in _values.Values.Where(v => IsExpired(v.Received, now)).ToList())
            {
                RemoveValueLocked(v.Key);
                removed++;
            }

            foreach (var (key, set) in _providers.ToList())
            {
                foreach (var p in set.Values.Where(p => IsExpired(p.Received, now)).ToList())
                {
                    RemoveProviderLocked(key, set, p.Provider);
                    removed++;
                }
            }
        }

        return removed;
    }

    public void Dispose() => _persistence?.Dispose();

    private bool IsExpired(DateTimeOffset received, DateTimeOffset now) => now - received >= _options.RecordTtl;

    private void PutLocked(StoredValue value, bool persist)
    {
        if (_values.TryGetValue(value.Key, out var old))
        {
            Count(_valuesByPeer, old.From, -1);
        }

        _values[value.Key] = value;
        Count(_valuesByPeer, value.From, +1);
        if (persist)
        {
            _persistence?.SaveValue(value);
        }
    }

    private void RemoveValueLocked(byte[] key)
    {
        if (_values.Remove(key, out var old))
        {
            Count(_valuesByPeer, old.From, -1);
            _persistence?.DeleteValue(key);
        }
    }

    private void AddProviderLocked(StoredProvider provider, bool persist)
    {
        if (!_providers.TryGetValue(provider.Key, out var set))
        {
            set = [];
            _providers[provider.Key] = set;
        }

        if (!set.ContainsKey(provider.Provider))
        {
            _providerCount++;
            Count(_providerKeysByPeer, provider.Provider, +1);
        }

        set[provider.Provider] = provider;
        if (persist)
        {
            _persistence?.SaveProvider(provider);
        }
    }

    private void RemoveProviderLocked(byte[] key, Dictionary<PeerId, StoredProvider> set, PeerId peer)
    {
        if (set.Remove(peer))
        {
            _providerCount--;
            Count(_providerKeysByPeer, peer, -1);
            _persistence?.DeleteProvider(key, peer);
        }

        if (set.Count == 0)
        {
            _providers.Remove(key);
        }
    }

    private static void Count(Dictionary<PeerId, int> counts, PeerId peer, int delta)
    {
        int n = counts.GetValueOrDefault(peer) + delta;
        if (n <= 0)
        {
            counts.Remove(peer);
        }
        else
        {
            counts[peer] = n;
        }
    }
}

/// <summary>Compares byte arrays by content.</summary>
internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var h = new HashCode();
        h.AddBytes(obj);
        return h.ToHashCode();
    }
}
