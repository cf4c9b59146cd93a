using System.Globalization;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Internal;
using PoIP.Network.Kademlia.Wire;

namespace PoIP.Network.Kademlia;

/// <summary>
/// The Kademlia engine, independent of how bytes travel (<see cref="IKadTransport"/>): routing table,
/// record store, request handling and the iterative operations. <see cref="KademliaDht"/> runs it over
/// libp2p; tests and the simulation benchmark run many over an in-memory network.
/// </summary>
internal sealed partial class KadNode : IDisposable
{
    private const int EvictAfterFailures = 1;
    private const int MaxTrackedPeers = 4096;
    private const int MaxProvidersPerReply = 100;
    private readonly KademliaOptions _options;
    private readonly IKadTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<IReadOnlyList<Multiaddr>> _localAddresses;
    private readonly Dictionary<string, IDhtRecordNamespace> _namespaces;
    private readonly PeerRateLimiter _limiter;
    private readonly Dictionary<PeerId, int> _strikes = [];
    private readonly Dictionary<PeerId, (bool Admitted, long Stamp)> _admitCache = [];
    private readonly Dictionary<byte[], byte[]> _ownValues = new(ByteArrayComparer.Instance);
    private readonly HashSet<PeerId> _admitting = [];
    private int _checking;
    private readonly HashSet<byte[]> _provided = new(ByteArrayComparer.Instance);
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<ITimer> _timers = [];
    private readonly BackgroundGate _refreshing = new();
    private KadPeer[] _bootstrapPeers = [];
    private readonly BackgroundGate _republishing = new();

    public KadNode(PeerId self, Func<IReadOnlyList<Multiaddr>> localAddresses, KademliaOptions options, IKadTransport transport, TimeProvider time, ILogger logger, KadMetrics metrics)
    {
        options.Validate();
        Self = self;
        _localAddresses = localAddresses;
        _options = options;
        _transport = transport;
        _time = time;
        _logger = logger;
        Metrics = metrics;
        _namespaces = options.Namespaces.ToDictionary(n => n.Name, StringComparer.Ordinal);
        _limiter = new PeerRateLimiter(options.RequestsPerSecond, options.RequestBurst, time);
        Table = new RoutingTable(KadId.FromKey(self.Bytes), options.BucketSize, options.MaxPeersPerGroupInBucket, options.MaxPeersPerGroupInTable);
        Store = new KadRecordStore(options, options.DatabasePath is { } path ? new SqliteKadPersistence(path) : null, time.GetUtcNow());
    }

    public PeerId Self { get; }

    public RoutingTable Table { get; }

    public KadRecordStore Store { get; }

    public KadMetrics Metrics { get; }

    public KademliaOptions Options => _options;

    private int K => _options.BucketSize;

    private LookupParameters Parameters(bool followUp) => new(K, _options.Alpha, _options.DisjointPaths, _options.Resiliency, followUp);

    /// <summary>Starts refresh, republish and expiry sweeps on the injected clock.</summary>
    public void StartTimers()
    {
        if (_options.RefreshInterval > TimeSpan.Zero)
        {
            _timers.Add(_time.CreateTimer(_ => Background("refresh", _refreshing, RefreshAsync), null, _options.RefreshInterval, _options.RefreshInterval));
        }

        _timers.Add(_time.CreateTimer(_ => Background("republish", _republishing, RepublishAsync), null, _options.RepublishInterval, _options.RepublishInterval));
        var sweep = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, _options.RecordTtl.Ticks / 48));
        _timers.Add(_time.CreateTimer(_ => Store.Sweep(_time.GetUtcNow()), null, sweep, sweep));
    }

    public void Dispose()
    {
        foreach (var t in _timers)
        {
            t.Dispose();
        }

        _stopping.Cancel();
        _stopping.Dispose();
        Store.Dispose();
    }

    // ------------------------------------------------------------------ values

    private IDhtRecordNamespace? NamespaceOf(ReadOnlySpan<byte> key)
    {
        if (key.Length < 3 || key[0] != (byte)'/')
        {
            return null;
        }

        int end = key[1..].IndexOf((byte)'/');
        if (end <= 0)
        {
            return null;
        }

        string name;
        try
        {
            name = ProtoReader.Strict.GetString(key.Slice(1, end));
        }
        catch (System.Text.DecoderFallbackException)
        {
            return null;
        }

        return _namespaces.GetValueOrDefault(name);
    }

    /// <summary>Validates, merges or selects, and stores a value; returns why not (null when stored).</summary>
    private string? StoreValue(byte[] key, byte[] value, PeerId from, out bool misbehaved)
    {
        misbehaved = true;
        var ns = NamespaceOf(key);
        if (ns is null)
        {
            return "unknown-namespace";
        }

        if (value.Length > _options.MaxValueSize)
        {
            return "oversized-record";
        }

        var now = _time.GetUtcNow();
        if (!ns.Validate(key, value, now).IsValid)
        {
            return "invalid-record";
        }

        byte[] final = value;
        lock (_lock)
        {
            if (Store.GetValue(key, now) is { } existing && ns.Validate(key, existing.Value, now).IsValid)
            {
                if (!existing.Value.AsSpan().SequenceEqual(value))
                {
                    byte[]? merged = ns.Merge(key, existing.Value, value);
                    if (merged is not null)
                    {
                        misbehaved = false;
                        if (merged.Length > _options.MaxValueSize)
                        {
                            return "merged-record-too-large";
                        }

                        if (!ns.Validate(key, merged, now).IsValid)
                        {
                            return "invalid-merge";
                        }

                        final = merged;
                    }
                    else if (ns.SelectBest(key, [existing.Value, value]) == 0)
                    {
                        misbehaved = false;
                        return "worse-than-stored";
                    }
                }
            }

            var refusal = Store.PutValue(new StoredValue(key, final, from, now));
            if (refusal != StoreRefusal.None)
            {
                misbehaved = false;
                return "store-" + refusal.ToString().ToLowerInvariant();
            }
        }

        Metrics.Stored("value");
        if (_options.RecordStored is { } callback)
        {
            var token = _stopping.Token;
            _ = Task.Run(async () =>
            {
                try
                {
                    await callback(key, final, token).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Log.DhtCallbackFailed(_logger, ex.Message);
                }
            }, CancellationToken.None);
        }

        return null;
    }

    private static Record ToRecord(byte[] key, byte[] value, DateTimeOffset received) => new()
    {
        Key = ByteString.CopyFrom(key),
        Value = ByteString.CopyFrom(value),
        TimeReceived = received.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
    };

    public async Task<DhtPutResult> PutValueAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        byte[] k = key.ToArray();
        byte[] v = value.ToArray();
        var ns = NamespaceOf(k) ?? throw new ArgumentException("the key has no registered namespace (/NAME/...)", nameof(key));
        if (v.Length > _options.MaxValueSize)
        {
            throw new ArgumentException($"the value is larger than {_options.MaxValueSize} bytes", nameof(value));
        }

        var verdict = ns.Validate(k, v, _time.GetUtcNow());
        if (!verdict.IsValid)
        {
            throw new ArgumentException("the value fails its namespace's validation: " + verdict.Reason, nameof(value));
        }

        lock (_lock)
        {
            if (_ownValues.Count < _options.MaxRecords || _ownValues.ContainsKey(k))
            {
                _ownValues[k] = v;
            }
        }

        return await PublishValueAsync(k, v, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DhtPutResult> PublishValueAsync(byte[] k, byte[] v, CancellationToken cancellationToken)
    {
        bool local = _options.Mode == DhtMode.Server && StoreValue(k, v, Self, out _) is null;
        var lookup = await FindClosestAsync(k, followUp: true, cancellationToken).ConfigureAwait(false);
        var request = new Message
        {
            Type = Message.Types.MessageType.PutValue,
            Key = ByteString.CopyFrom(k),
            Record = ToRecord(k, v, _time.GetUtcNow()),
        };
        var results = await Task.WhenAll(lookup.Closest.Select(async peer =>
        {
            try
            {
                var reply = await RequestAsync(peer, request, expectReply: true, cancellationToken).ConfigureAwait(false);
                return reply is not null && reply.Key.Span.SequenceEqual(k) && reply.Record is { } r && r.Key.Span.SequenceEqual(k) && r.Value.Span.SequenceEqual(v);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        })).ConfigureAwait(false);
        return new DhtPutResult(results.Count(r => r), lookup.Closest.Count, local);
    }

    public async Task<IReadOnlyList<DhtValue>> GetValuesAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        byte[] k = key.ToArray();
        var ns = NamespaceOf(k);
        if (ns is null)
        {
            return [];
        }

        var found = new Dictionary<byte[], List<PeerId>>(ByteArrayComparer.Instance);
        var order = new List<byte[]>();
        var gate = new Lock();
        void Add(byte[] value, PeerId from)
        {
            lock (gate)
            {
                if (!found.TryGetValue(value, out var list))
                {
                    list = [];
                    found[value] = list;
                    order.Add(value);
                }

                if (!list.Contains(from))
                {
                    list.Add(from);
                }
            }
        }

        var now = _time.GetUtcNow();
        if (Store.GetValue(k, now) is { } local && ns.Validate(k, local.Value, now).IsValid)
        {
            Add(local.Value, Self);
        }

        var request = new Message { Type = Message.Types.MessageType.GetValue, Key = ByteString.CopyFrom(k) };
        await LookupAsync(k, request, followUp: true, reply =>
        {
            if (reply.Message.Record is { } r)
            {
                byte[] value = r.Value.ToByteArray();
                if (r.Key.Span.SequenceEqual(k) && value.Length <= _options.MaxValueSize && ns.Validate(k, value, _time.GetUtcNow()).IsValid)
                {
                    Add(value, reply.From);
                }
                else
                {
                    Metrics.Refused("invalid-record-in-reply");
                }
            }
        }, cancellationToken).ConfigureAwait(false);

        lock (gate)
        {
            return [.. order.Select(v => new DhtValue(v, [.. found[v]]))];
        }
    }

    // ------------------------------------------------------------------ providers

    public async Task<int> ProvideAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        byte[] k = key.ToArray();
        if (!KadCodec.IsProviderKey(k))
        {
            throw new ArgumentException("a provider key must be a multihash (sha2-256: 0x12 0x20 + 32 bytes) or CIDv1 bytes", nameof(key));
        }

        lock (_lock)
        {
            if (_provided.Count < _options.MaxProviderKeysPerPeer)
            {
                _provided.Add(k);
            }
        }

        return await AnnounceAsync(k, cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> AnnounceAsync(byte[] k, CancellationToken cancellationToken)
    {
        var addresses = _localAddresses();
        if (_options.Mode == DhtMode.Server)
        {
            Store.AddProvider(new StoredProvider(k, Self, addresses, _time.GetUtcNow()));
        }

        var lookup = await FindClosestAsync(k, followUp: true, cancellationToken).ConfigureAwait(false);
        var request = new Message { Type = Message.Types.MessageType.AddProvider, Key = ByteString.CopyFrom(k) };
        request.ProviderPeers.Add(KadCodec.ToWire(Self, addresses, connected: true));
        var sent = await Task.WhenAll(lookup.Closest.Select(async peer =>
        {
            try
            {
                await RequestAsync(peer, request, expectReply: false, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        })).ConfigureAwait(false);
        return sent.Count(s => s);
    }

    public async Task<IReadOnlyList<DhtPeerInfo>> FindProvidersAsync(ReadOnlyMemory<byte> key, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        byte[] k = key.ToArray();
        if (!KadCodec.IsProviderKey(k))
        {
            throw new ArgumentException("a provider key must be a multihash (sha2-256: 0x12 0x20 + 32 bytes) or CIDv1 bytes", nameof(key));
        }

        var found = new Dictionary<PeerId, List<Multiaddr>>();
        var order = new List<PeerId>();
        var gate = new Lock();
        void Add(PeerId peer, IEnumerable<Multiaddr> addresses)
        {
            lock (gate)
            {
                if (!found.TryGetValue(peer, out var list))
                {
                    if (order.Count >= maxCount)
                    {
                        return;
                    }

                    list = [];
                    found[peer] = list;
                    order.Add(peer);
                }

                foreach (var a in addresses)
                {
                    if (!list.Contains(a) && list.Count < KadCodec.MaxAddressesPerPeer)
                    {
                        list.Add(a);
                    }
                }
            }
        }

        foreach (var p in Store.GetProviders(k, _time.GetUtcNow(), maxCount))
        {
            Add(p.Provider, p.Addresses);
        }

        var request = new Message { Type = Message.Types.MessageType.GetProviders, Key = ByteString.CopyFrom(k) };
        await LookupAsync(k, request, followUp: true, reply =>
        {
            foreach (var p in KadCodec.ReadPeers(reply.Message.ProviderPeers, out _))
            {
                Add(p.Peer, p.Addresses);
            }
        }, cancellationToken).ConfigureAwait(false);

        lock (gate)
        {
            return [.. order.Select(p => new DhtPeerInfo(p, [.. found[p]]))];
        }
    }

    // ------------------------------------------------------------------ peers

    public async Task<DhtPeerInfo?> FindPeerAsync(PeerId peer, CancellationToken cancellationToken)
    {
        if (Table.Find(peer) is { } known)
        {
            return known.ToInfo();
        }

        byte[] k = peer.ToArray();
        KadPeer? found = null;
        var request = new Message { Type = Message.Types.MessageType.FindNode, Key = ByteString.CopyFrom(k) };
        await LookupAsync(k, request, followUp: false, reply =>
        {
            if (reply.From == peer)
            {
                Volatile.Write(ref found, reply.Peer);
            }

            foreach (var p in KadCodec.ReadPeers(reply.Message.CloserPeers, out _))
            {
                if (p.Peer == peer && p.Addresses.Count > 0)
                {
                    Volatile.Write(ref found, p);
                }
            }
        }, cancellationToken).ConfigureAwait(false);
        return Volatile.Read(ref found)?.ToInfo() ?? Table.Find(peer)?.ToInfo();
    }

    /// <summary>A FIND_NODE lookup of the peers closest to <paramref name="key"/>.</summary>
    public Task<LookupResult> FindClosestAsync(byte[] key, bool followUp, CancellationToken cancellationToken) =>
        LookupAsync(key, new Message { Type = Message.Types.MessageType.FindNode, Key = ByteString.CopyFrom(key) }, followUp, null, cancellationToken);

    /// <summary>Reply of one lookup query, for the operation's own use.</summary>
    internal readonly record struct QueryReply(PeerId From, KadPeer Peer, Message Message);

    private async Task<LookupResult> LookupAsync(byte[] key, Message request, bool followUp, Action<QueryReply>? onReply, CancellationToken cancellationToken)
    {
        if (Table.Count == 0)
        {
            await RejoinAsync(cancellationToken).ConfigureAwait(false);
        }

        var target = KadId.FromKey(key);
        var seeds = Table.Nearest(target, K);
        return await KadLookup.RunAsync(target, seeds, Self, async (peer, ct) =>
        {
            var reply = await RequestAsync(peer, request, expectReply: true, ct).ConfigureAwait(false)
                ?? throw new InvalidOperationException("no reply");
            onReply?.Invoke(new QueryReply(peer.Peer, peer, reply));
            return ReadCloser(reply);
        }, Parameters(followUp), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An empty routing table (every peer evicted after failing: this peer was cut off from the DHT) is refilled from
    /// the bootstrap peers, as at start, so that the first lookup after the network heals finds the DHT again.
    /// </summary>
    private async Task RejoinAsync(CancellationToken cancellationToken)
    {
        var peers = Volatile.Read(ref _bootstrapPeers);
        if (peers.Length > 0)
        {
            await Task.WhenAll(peers.Select(p => TryAdmitAsync(p, cancellationToken))).ConfigureAwait(false);
        }
    }

    private List<KadPeer> ReadCloser(Message reply)
    {
        var peers = KadCodec.ReadPeers(reply.CloserPeers, out int dropped);
        if (dropped > 0)
        {
            Metrics.Refused("closer-peers-over-limit");
        }

        if (!_options.AllowPrivateAddresses)
        {
            peers.RemoveAll(p => AddressGroups.GroupOf(p.Addresses) is null);
        }

        return peers;
    }

    /// <summary>One request to one peer, with the timeout and the stake gate; a peer that answers enters the routing table.</summary>
    public async Task<Message?> RequestAsync(KadPeer peer, Message request, bool expectReply, CancellationToken cancellationToken)
    {
        if (!await IsAdmittedAsync(peer.Peer, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"{peer.Peer} is not admitted (stake gate)");
        }

        string type = request.Type.ToString();
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _stopping.Token);
        Message? reply;
        try
        {
            reply = await _transport.SendAsync(peer, request, expectReply, linked.Token).ConfigureAwait(false);
            if (expectReply && reply is null)
            {
                throw new InvalidOperationException("no reply");
            }
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Metrics.Outbound(type, ok: false);
            Table.MarkFailed(peer.Peer, EvictAfterFailures);
            throw;
        }

        Metrics.Outbound(type, ok: true);
        if (expectReply && reply is not null && reply.Type == request.Type)
        {
            AddAnswered(peer); // it answered on the protocol: a server
        }

        return reply;
    }

    /// <summary>Admits a peer that advertises the protocol into the routing table once it answers a FIND_NODE for our id.</summary>
    public async Task<bool> TryAdmitAsync(KadPeer peer, CancellationToken cancellationToken)
    {
        if (Table.Contains(peer.Peer))
        {
            return true;
        }

        if (peer.Peer == Self)
        {
            return false;
        }

        lock (_lock)
        {
            if (!_admitting.Add(peer.Peer))
            {
                return false; // already being checked
            }
        }

        try
        {
            // Peers it names enter the table only when they answer a lookup themselves.
            await RequestAsync(peer, new Message { Type = Message.Types.MessageType.FindNode, Key = ByteString.CopyFrom(Self.Bytes) }, expectReply: true, cancellationToken).ConfigureAwait(false);
            return Table.Contains(peer.Peer);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        finally
        {
            lock (_lock)
            {
                _admitting.Remove(peer.Peer);
            }
        }
    }

    /// <summary>
    /// Puts a peer that answered into the table. When its bucket is full, the bucket's least recently seen peer is
    /// asked a FIND_NODE (if not seen for <see cref="LivenessInterval"/>, one check per node at a time): if it does not
    /// answer it leaves and the newcomer takes its place (Kademlia's rule: live old peers are kept).
    /// </summary>
    private RoutingAddResult AddAnswered(KadPeer peer)
    {
        long now = _time.GetTimestamp();
        var result = Table.TryAdd(peer, now);
        if (result == RoutingAddResult.BucketFull
            && Table.LeastRecentlySeen(peer.Id) is { } oldest
            && _time.GetElapsedTime(oldest.Seen, now) >= LivenessInterval
            && Interlocked.Exchange(ref _checking, 1) == 0)
        {
            _ = CheckLivenessAsync(oldest.Peer, peer);
        }

        return result;
    }

    /// <summary>How long a routing-table peer counts as alive after it last answered.</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromMinutes(1);

    private async Task CheckLivenessAsync(KadPeer oldest, KadPeer newcomer)
    {
        try
        {
            await RequestAsync(oldest, new Message { Type = Message.Types.MessageType.FindNode, Key = ByteString.CopyFrom(Self.Bytes) }, expectReply: true, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            Table.Remove(oldest.Peer);
            Table.TryAdd(newcomer, _time.GetTimestamp());
        }
        finally
        {
            Volatile.Write(ref _checking, 0);
        }
    }

    /// <summary>Admits a peer already known to serve the protocol (it just sent us a request on it), subject to the stake gate.</summary>
    public async ValueTask<bool> AdmitServingPeerAsync(KadPeer peer, CancellationToken cancellationToken)
    {
        if (peer.Peer == Self || !await IsAdmittedAsync(peer.Peer, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        return AddAnswered(peer) is RoutingAddResult.Added or RoutingAddResult.Updated;
    }

    private async ValueTask<bool> IsAdmittedAsync(PeerId peer, CancellationToken cancellationToken)
    {
        if (_options.AdmitPeer is not { } gate)
        {
            return true;
        }

        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_admitCache.TryGetValue(peer, out var cached) && _time.GetElapsedTime(cached.Stamp, now) < TimeSpan.FromMinutes(10))
            {
                return cached.Admitted;
            }
        }

        bool admitted = await gate(peer, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            if (_admitCache.Count >= MaxTrackedPeers)
            {
                _admitCache.Clear();
            }

            _admitCache[peer] = (admitted, now);
        }

        return admitted;
    }

    // ------------------------------------------------------------------ maintenance

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

    /// <summary>A lookup of our own id and of a random key in every non-empty bucket (up to prefix 15, as go).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await FindClosestAsync(Self.ToArray(), followUp: false, cancellationToken).ConfigureAwait(false);
        foreach (int cpl in Table.NonEmptyBuckets().Where(c => c <= 15))
        {
            byte[] key = RandomKeyInBucket(cpl);
            await FindClosestAsync(key, followUp: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A key whose hash shares exactly <paramref name="cpl"/> leading bits with our id.</summary>
    private byte[] RandomKeyInBucket(int cpl)
    {
        byte[] key = new byte[16];
        for (int i = 0; i < 1 << 22; i++)
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(key);
            if (Table.Local.CommonPrefixLength(KadId.FromKey(key)) == cpl)
            {
                return key;
            }
        }

        return key;
    }

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
                await PublishValueAsync(k, v, cancellationToken).ConfigureAwait(false);
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

    private void Background(string name, BackgroundGate gate, Func<CancellationToken, Task> work)
    {
        if (Interlocked.Exchange(ref gate.Running, 1) != 0)
        {
            return; // the previous run is still going
        }

        var token = _stopping.Token;
        Task.Run(() => work(token), CancellationToken.None).ContinueWith(
            t =>
            {
                if (t.Exception is { } ex)
                {
                    Log.DhtBackgroundFailed(_logger, name, ex.InnerException?.Message ?? ex.Message);
                }

                Volatile.Write(ref gate.Running, 0);
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    private sealed class BackgroundGate
    {
        public int Running;
    }
}
