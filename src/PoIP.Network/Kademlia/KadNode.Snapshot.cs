namespace PoIP.Network.Kademlia;

/// <summary>
/// What a node knows, as data: routing-table entries (bucket by bucket, least recently seen first, with when each was
/// last seen and its failures in a row), stored values and provider entries, its own values and provided keys, and its
/// bootstrap peers. Lets a long simulation be checkpointed and resumed; a live node persists only its records (SQLite).
/// </summary>
internal sealed record KadNodeSnapshot(
    IReadOnlyList<RoutingTableEntry> Table,
    IReadOnlyList<StoredValue> Values,
    IReadOnlyList<StoredProvider> Providers,
    IReadOnlyList<KeyValuePair<byte[], byte[]>> OwnValues,
    IReadOnlyList<byte[]> Provided,
    IReadOnlyList<KadPeer> BootstrapPeers);

/// <summary>Snapshot and restore of a node's state (<see cref="KadNodeSnapshot"/>).</summary>
internal sealed partial class KadNode
{
    /// <summary>A copy of this node's state; take it while no request runs on the node.</summary>
    public KadNodeSnapshot Snapshot()
    {
        KeyValuePair<byte[], byte[]>[] own;
        byte[][] provided;
        lock (_lock)
        {
            own = [.. _ownValues];
            provided = [.. _provided];
        }

        return new(Table.Entries(), Store.AllValues(), Store.AllProviders(), own, provided, Volatile.Read(ref _bootstrapPeers));
    }

    /// <summary>Puts <paramref name="snapshot"/>'s state into this node, which must be new (empty table and store).</summary>
    public void Restore(KadNodeSnapshot snapshot)
    {
        if (Table.Count > 0 || Store.ValueCount > 0 || Store.ProviderCount > 0)
        {
            throw new InvalidOperationException("only a new node can be restored");
        }

        Table.Restore(snapshot.Table);
        foreach (var v in snapshot.Values)
        {
            if (Store.PutValue(v) is not StoreRefusal.None and var refusal)
            {
                throw new InvalidOperationException($"the store refuses a saved value ({refusal})");
            }
        }

        foreach (var p in snapshot.Providers)
        {
            if (Store.AddProvider(p) is not StoreRefusal.None and var refusal)
            {
                throw new InvalidOperationException($"the store refuses a saved provider entry ({refusal})");
            }
        }

        lock (_lock)
        {
            foreach (var (k, v) in snapshot.OwnValues)
            {
                _ownValues[k] = v;
            }

            foreach (var k in snapshot.Provided)
            {
                _provided.Add(k);
            }
        }

        Volatile.Write(ref _bootstrapPeers, [.. snapshot.BootstrapPeers]);
    }
}
