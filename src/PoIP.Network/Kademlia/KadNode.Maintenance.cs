using PoIP.Network.Kademlia.Wire;

namespace PoIP.Network.Kademlia;

/// <summary>Upkeep: bootstrap, refresh with ping-and-evict, replication by holders, republish of our own records.</summary>
internal sealed partial class KadNode
{
    /// <summary>Asks the bootstrap peers for our neighbourhood, then looks ourselves up.</summary>
    public async Task<int> BootstrapAsync(IEnumerable<KadPeer> peers, CancellationToken cancellationToken)
    {
        KadPeer[] list = [.. peers];
        Volatile.Write(ref _bootstrapPeers, list);
        var admitted = await Task.WhenAll(list.Select(p => TryAdmitAsync(p, cancellationToken))).ConfigureAwait(false);
        if (Table.Count > 0)
        {
            await FindClosestAsync(Self.ToArray(), followUp: false, cancellationToken).ConfigureAwait(false);
        }

        return admitted.Count(a => a);
    }

    /// <summary>
    /// The routing-table refresh (every <see cref="KademliaOptions.RefreshInterval"/>): a lookup of our own id and of a
    /// random key in every non-empty bucket (up to prefix 15, as go), then <see cref="CheckPeersAsync"/>.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await FindClosestAsync(Self.ToArray(), followUp: false, cancellationToken).ConfigureAwait(false);
        foreach (int cpl in Table.NonEmptyBuckets().Where(c => c <= 15))
        {
            byte[] key = RandomKeyInBucket(cpl);
            await FindClosestAsync(key, followUp: false, cancellationToken).ConfigureAwait(false);
        }

        await CheckPeersAsync(_options.RefreshInterval, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Pings every routing-table peer that has not answered for <paramref name="grace"/> or whose last request failed
    /// (go-libp2p-kad-dht's ping-and-evict at each refresh): one that answers stays; one that fails is retried once,
    /// and leaves after <see cref="EvictAfterFailures"/> failures in a row. So a peer that left is gone from our table,
    /// and from the replies we give, within one refresh period. Returns how many left.
    /// </summary>
    public async Task<int> CheckPeersAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        long now = _time.GetTimestamp();
        var due = Table.NeedingCheck(seen => _time.GetElapsedTime(seen, now) >= grace);
        int evicted = 0;
        var ping = new Message { Type = Message.Types.MessageType.Ping };
        foreach (var batch in due.Chunk(16))
        {
            var left = await Task.WhenAll(batch.Select(async peer =>
            {
                for (int attempt = 0; attempt < EvictAfterFailures && Table.Contains(peer.Peer); attempt++)
                {
                    try
                    {
                        await RequestAsync(peer, ping, expectReply: true, cancellationToken).ConfigureAwait(false);
                        return false;
                    }
                    catch (Exception) when (!cancellationToken.IsCancellationRequested)
                    {
                        // counted by RequestAsync; retried once
                    }
                }

                return !Table.Contains(peer.Peer);
            })).ConfigureAwait(false);
            evicted += left.Count(l => l);
        }

        return evicted;
    }

    /// <summary>
    /// Kademlia's replication by holders: every value stored here for someone else that no put has reached for
    /// <see cref="KademliaOptions.ReplicateInterval"/> is put again on the k peers now closest to its key, dated with
    /// its originator's last put (so it still expires <see cref="KademliaOptions.RecordTtl"/> after that). A put
    /// reaching a holder resets its wait, so about one holder per interval replicates each value. Returns how many.
    /// </summary>
    public async Task<int> ReplicateAsync(CancellationToken cancellationToken)
    {
        if (_options.Mode != DhtMode.Server || _options.ReplicateInterval <= TimeSpan.Zero)
        {
            return 0;
        }

        var now = _time.GetUtcNow();
        int replicated = 0;
        foreach (var v in Store.ValuesToReplicate(Self, now - _options.ReplicateInterval, now))
        {
            if (NamespaceOf(v.Key) is not { } ns || !ns.Validate(v.Key, v.Value, now).IsValid)
            {
                continue;
            }

            Store.Touch(v.Key, now);
            await PublishValueAsync(v.Key, v.Value, v.Received, cancellationToken).ConfigureAwait(false);
            replicated++;
        }

        return replicated;
    }

    /// <summary>
    /// A key whose hash shares exactly <paramref name="cpl"/> leading bits with our id. Below 16 bits it comes from
    /// <see cref="PrefixKeys"/> (one key per 16-bit hash prefix, as go-libp2p-kbucket keeps a table), with the bits
    /// after the flipped one drawn at random; deeper buckets are searched for by hashing.
    /// </summary>
    internal byte[] RandomKeyInBucket(int cpl)
    {
        if (cpl < 16)
        {
            int local = (int)(Table.Local.A >> 48);
            int below = 0x8000 >> cpl;
            int prefix = (local & ~((below << 1) - 1) & 0xFFFF) | (~local & below) | (Random.Shared.Next() & (below - 1));
            byte[] key = PrefixKeys.Value.AsSpan(prefix * 16, 16).ToArray();
            if (Table.Local.CommonPrefixLength(KadId.FromKey(key)) == cpl)
            {
                return key;
            }
        }

        byte[] probe = new byte[16];
        System.Security.Cryptography.RandomNumberGenerator.Fill(probe.AsSpan(0, 8));
        for (ulong i = 0; i < 1UL << 26; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(probe.AsSpan(8), i);
            if (Table.Local.CommonPrefixLength(KadId.FromKey(probe)) == cpl)
            {
                return probe;
            }
        }

        return probe;
    }

    /// <summary>For every 16-bit prefix p, at [16 p, 16 p + 16), a 16-byte key whose SHA-256 starts with p (built once per process: about 0.7 M hashes, 1 MiB).</summary>
    private static readonly Lazy<byte[]> PrefixKeys = new(() =>
    {
        byte[] table = new byte[16 << 16];
        var filled = new bool[1 << 16];
        int count = 0;
        Span<byte> key = stackalloc byte[16];
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.RandomNumberGenerator.Fill(key[..8]);
        for (ulong i = 0; count < filled.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(key[8..], i);
            System.Security.Cryptography.SHA256.HashData(key, hash);
            int p = (hash[0] << 8) | hash[1];
            if (!filled[p])
            {
                filled[p] = true;
                key.CopyTo(table.AsSpan(p * 16, 16));
                count++;
            }
        }

        return table;
    });

    /// <summary>Re-puts this peer's own values and re-announces its provider records.</summary>
    public async Task RepublishAsync(CancellationToken cancellationToken)
    {
        List<KeyValuePair<byte[], byte[]>> values;
        List<byte[]> provided;
        lock (_lock)
        {
            values = [.. _ownValues];
            provided = [.. _provided];
        }

        var now = _time.GetUtcNow();
        foreach (var (k, v) in values)
        {
            if (NamespaceOf(k) is { } ns && ns.Validate(k, v, now).IsValid)
            {
                await PublishValueAsync(k, v, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                lock (_lock)
                {
                    _ownValues.Remove(k);
                }
            }
        }

        foreach (var k in provided)
        {
            await AnnounceAsync(k, cancellationToken).ConfigureAwait(false);
        }
    }
}
