using PoIP.Core.Identity;

namespace PoIP.Network.Kademlia;

/// <summary>Why a peer did or did not enter the routing table.</summary>
internal enum RoutingAddResult
{
    Added,
    Updated,
    Self,
    BucketFull,
    GroupLimitInBucket,
    GroupLimitInTable,
}

/// <summary>A routing-table entry as <see cref="RoutingTable.Entries"/> gives it.</summary>
internal readonly record struct RoutingTableEntry(KadPeer Peer, long Seen, int Failures);

/// <summary>
/// XOR k-buckets (bucket i holds peers sharing i leading bits with the local id). A full bucket keeps its
/// live peers (Kademlia prefers long-lived peers) and only replaces one that failed a request. Address-group
/// limits per bucket and per table (go-libp2p's 2 and 3 per /16) keep one network from filling it.
/// Thread-safe.
/// </summary>
internal sealed class RoutingTable
{
    private readonly List<Entry>[] _buckets = new List<Entry>[KadId.Bits];
    private readonly Dictionary<PeerId, Entry> _byPeer = [];
    private readonly Dictionary<string, int> _groupCounts = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly int _k;
    private readonly int _maxPerGroupInBucket;
    private readonly int _maxPerGroupInTable;

    public RoutingTable(KadId local, int k, int maxPerGroupInBucket, int maxPerGroupInTable)
    {
        Local = local;
        _k = k;
        _maxPerGroupInBucket = maxPerGroupInBucket;
        _maxPerGroupInTable = maxPerGroupInTable;
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = [];
        }
    }

    public KadId Local { get; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byPeer.Count;
            }
        }
    }

    public bool Contains(PeerId peer)
    {
        lock (_lock)
        {
            return _byPeer.ContainsKey(peer);
        }
    }

    public KadPeer? Find(PeerId peer)
    {
        lock (_lock)
        {
            return _byPeer.TryGetValue(peer, out var e) ? e.Peer : null;
        }
    }

    /// <summary>Adds or refreshes a peer that answered (at <paramref name="seen"/>, a timestamp of the node's clock).</summary>
    public RoutingAddResult TryAdd(KadPeer peer, long seen = 0)
    {
        int cpl = Local.CommonPrefixLength(peer.Id);
        if (cpl >= KadId.Bits)
        {
            return RoutingAddResult.Self;
        }

        string? group = AddressGroups.GroupOf(peer.Addresses);
        lock (_lock)
        {
            var bucket = _buckets[cpl];
            if (_byPeer.TryGetValue(peer.Peer, out var existing))
            {
                if (existing.Group != group)
                {
                    // A peer moving into a fuller group is judged like a newcomer.
                    if (group is not null && !GroupFits(bucket, group, existing))
                    {
                        existing.Failures = 0;
                        return RoutingAddResult.Updated;
                    }

                    ChangeGroup(existing.Group, -1);
                    ChangeGroup(group, +1);
                    existing.Group = group;
                }

                existing.Peer = peer.Addresses.Count > 0 ? peer : existing.Peer;
                existing.Failures = 0;
                existing.Seen = seen;
                bucket.Remove(existing);
                bucket.Add(existing); // most recently seen last
                return RoutingAddResult.Updated;
            }

            if (group is not null)
            {
                if (bucket.Count(e => e.Group == group) >= _maxPerGroupInBucket)
                {
                    return RoutingAddResult.GroupLimitInBucket;
                }

                if (_groupCounts.GetValueOrDefault(group) >= _maxPerGroupInTable)
                {
                    return RoutingAddResult.GroupLimitInTable;
                }
            }

            if (bucket.Count >= _k)
            {
                int failed = bucket.FindIndex(e => e.Failures > 0);
                if (failed < 0)
                {
                    return RoutingAddResult.BucketFull;
                }

                RemoveAt(bucket, failed);
            }

            var entry = new Entry(peer, group) { Seen = seen };
            bucket.Add(entry);
            _byPeer[peer.Peer] = entry;
            ChangeGroup(group, +1);
            return RoutingAddResult.Added;
        }
    }

    /// <summary>The least recently seen peer of the bucket <paramref name="peer"/> would go in, and when it was last seen.</summary>
    public (KadPeer Peer, long Seen)? LeastRecentlySeen(KadId peer)
    {
        int cpl = Local.CommonPrefixLength(peer);
        if (cpl >= KadId.Bits)
        {
            return null;
        }

        lock (_lock)
        {
            var bucket = _buckets[cpl];
            return bucket.Count == 0 ? null : (bucket[0].Peer, bucket[0].Seen);
        }
    }

    /// <summary>Notes a failed request; a peer that failed <paramref name="evictAfter"/> times in a row leaves.</summary>
    public void MarkFailed(PeerId peer, int evictAfter)
    {
        lock (_lock)
        {
            if (_byPeer.TryGetValue(peer, out var e) && ++e.Failures >= evictAfter)
            {
                RemoveLocked(peer);
            }
        }
    }

    public bool Remove(PeerId peer)
    {
        lock (_lock)
        {
            return RemoveLocked(peer);
        }
    }

    /// <summary>The <paramref name="count"/> peers closest to <paramref name="target"/>, closest first.</summary>
    /// <remarks>
    /// Buckets are distance classes, so only one class at a time is sorted: bucket cpl(local, target) holds the
    /// closest peers (they share more than cpl bits with the target), every bucket above it the next class (exactly
    /// cpl bits), and each bucket below it a class of its own, farther as the bucket index falls. A deep table answers
    /// most requests from bucket cpl alone, without sorting the whole table.
    /// </remarks>
    public List<KadPeer> Nearest(KadId target, int count, PeerId? exclude = null)
    {
        var result = new List<KadPeer>(count + 1);
        var comparer = Comparer<KadPeer>.Create((x, y) => target.CompareDistance(x.Id, y.Id));
        lock (_lock)
        {
            int cpl = Math.Min(Local.CommonPrefixLength(target), KadId.Bits - 1);
            AddClass(cpl, cpl + 1);
            AddClass(cpl + 1, KadId.Bits);
            for (int i = cpl - 1; i >= 0 && result.Count < count; i--)
            {
                AddClass(i, i + 1);
            }
        }

        return result;

        // Appends the closest peers of buckets [from, to), one distance class, until count are taken.
        void AddClass(int from, int to)
        {
            int start = result.Count;
            if (start >= count)
            {
                return;
            }

            for (int i = from; i < to; i++)
            {
                foreach (var e in _buckets[i])
                {
                    // A peer whose last request failed is not handed out (to lookups or in replies) until it answers again.
                    if (e.Failures == 0 && (exclude is not { } x || e.Peer.Peer != x))
                    {
                        result.Add(e.Peer);
                    }
                }
            }

            result.Sort(start, result.Count - start, comparer);
            if (result.Count > count)
            {
                result.RemoveRange(count, result.Count - count);
            }
        }
    }

    /// <summary>The peers whose last request failed, or that were last seen at a timestamp <paramref name="stale"/> accepts.</summary>
    public List<KadPeer> NeedingCheck(Func<long, bool> stale)
    {
        lock (_lock)
        {
            return [.. _byPeer.Values.Where(e => e.Failures > 0 || stale(e.Seen)).Select(e => e.Peer)];
        }
    }

    /// <summary>Every peer (a snapshot).</summary>
    public List<KadPeer> All()
    {
        lock (_lock)
        {
            return [.. _byPeer.Values.Select(e => e.Peer)];
        }
    }

    /// <summary>Every entry, bucket by bucket, least recently seen first (a snapshot).</summary>
    public List<RoutingTableEntry> Entries()
    {
        lock (_lock)
        {
            return [.. _buckets.SelectMany(b => b).Select(e => new RoutingTableEntry(e.Peer, e.Seen, e.Failures))];
        }
    }

    /// <summary>Puts back entries taken by <see cref="Entries"/> into an empty table, in their order, with their failures.</summary>
    public void Restore(IEnumerable<RoutingTableEntry> entries)
    {
        foreach (var e in entries)
        {
            if (TryAdd(e.Peer, e.Seen) != RoutingAddResult.Added)
            {
                throw new InvalidOperationException($"{e.Peer} does not fit the table it was taken from");
            }

            lock (_lock)
            {
                _byPeer[e.Peer.Peer].Failures = e.Failures;
            }
        }
    }

    /// <summary>Indices of the non-empty buckets.</summary>
    public List<int> NonEmptyBuckets()
    {
        lock (_lock)
        {
            var list = new List<int>();
            for (int i = 0; i < _buckets.Length; i++)
            {
                if (_buckets[i].Count > 0)
                {
                    list.Add(i);
                }
            }

            return list;
        }
    }

    public int BucketCount(int index)
    {
        lock (_lock)
        {
            return _buckets[index].Count;
        }
    }

    private bool GroupFits(List<Entry> bucket, string group, Entry existing) =>
        bucket.Count(e => e != existing && e.Group == group) < _maxPerGroupInBucket
        && _groupCounts.GetValueOrDefault(group) < _maxPerGroupInTable;

    private bool RemoveLocked(PeerId peer)
    {
        if (!_byPeer.TryGetValue(peer, out var e))
        {
            return false;
        }

        var bucket = _buckets[Local.CommonPrefixLength(e.Peer.Id)];
        RemoveAt(bucket, bucket.IndexOf(e));
        return true;
    }

    private void RemoveAt(List<Entry> bucket, int index)
    {
        var e = bucket[index];
        bucket.RemoveAt(index);
        _byPeer.Remove(e.Peer.Peer);
        ChangeGroup(e.Group, -1);
    }

    private void ChangeGroup(string? group, int delta)
    {
        if (group is null)
        {
            return;
        }

        int n = _groupCounts.GetValueOrDefault(group) + delta;
        if (n <= 0)
        {
            _groupCounts.Remove(group);
        }
        else
        {
            _groupCounts[group] = n;
        }
    }

    private sealed class Entry(KadPeer peer, string? group)
    {
        public KadPeer Peer { get; set; } = peer;

        public string? Group { get; set; } = group;

        public int Failures { get; set; }

        public long Seen { get; set; }
    }
}
