using System.Collections.Concurrent;
using System.Security.Cryptography;
using PoIP.Core.Identity;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;

namespace PoIP.TestUtils.Dht;

/// <summary>
/// A test fake of the Kademlia DHT: many <see cref="IKademliaDht"/> peers in one process sharing a "network"
/// (no wire, no routing table: every lookup reaches the k server peers closest to the key by XOR distance of
/// SHA-256 ids). Each peer applies its own <see cref="KademliaOptions"/> exactly as the contract says:
/// a value is validated by the namespace its key names (unknown namespace refused); on a put for a stored key
/// <see cref="IDhtRecordNamespace.Merge"/> non-null is stored, else <see cref="IDhtRecordNamespace.SelectBest"/>
/// keeps the better; <see cref="KademliaOptions.RecordStored"/> runs after each local store; gets return every
/// distinct valid value and overwrite nobody. Used only by unit tests of the logic built on the DHT.
/// </summary>
public sealed class InMemoryDhtNetwork(TimeProvider? timeProvider = null, int k = 20)
{
    private readonly ConcurrentDictionary<PeerId, Peer> _peers = new();

    /// <summary>The shared clock.</summary>
    public TimeProvider TimeProvider { get; } = timeProvider ?? TimeProvider.System;

    /// <summary>Replication factor.</summary>
    public int K { get; } = k;

    /// <summary>The peers, in join order.</summary>
    public IReadOnlyList<Peer> Peers => [.. _peers.Values];

    /// <summary>Adds a peer with the given id and addresses.</summary>
    public Peer Join(PeerId id, KademliaOptions options, Func<IReadOnlyList<Multiaddr>>? addresses = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var peer = new Peer(this, id, options, addresses ?? (() => []));
        if (!_peers.TryAdd(id, peer))
        {
            throw new InvalidOperationException($"{id} already joined.");
        }

        return peer;
    }

    /// <summary>Adds a peer for a libp2p host (its id and listen addresses); the shape of <c>KademliaDht.Create</c>.</summary>
    public Peer Join(Libp2pHost host, KademliaOptions options)
    {
        ArgumentNullException.ThrowIfNull(host);
        return Join(host.PeerId, options, () => [.. host.ListenAddresses.Select(a => a.WithoutPeerId())]);
    }

    private static byte[] Distance(ReadOnlySpan<byte> key, PeerId peer)
    {
        byte[] a = SHA256.HashData(key), b = SHA256.HashData(peer.Bytes);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] ^= b[i];
        }

        return a;
    }

    private List<Peer> Closest(ReadOnlySpan<byte> key)
    {
        byte[] keyCopy = key.ToArray();
        return [.. _peers.Values.Where(p => p.Online && p.Options.Mode == DhtMode.Server)
            .OrderBy(p => Distance(keyCopy, p.LocalPeer), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y)))
            .Take(K)];
    }

    /// <summary>One peer of the fake network.</summary>
    public sealed class Peer : IKademliaDht
    {
        private readonly InMemoryDhtNetwork _network;
        private readonly Func<IReadOnlyList<Multiaddr>> _addresses;
        private readonly ConcurrentDictionary<string, byte[]> _values = new();
        private readonly ConcurrentDictionary<string, ConcurrentDictionary<PeerId, DhtPeerInfo>> _providers = new();
        private readonly Lock _storeLock = new();

        internal Peer(InMemoryDhtNetwork network, PeerId id, KademliaOptions options, Func<IReadOnlyList<Multiaddr>> addresses)
        {
            _network = network;
            LocalPeer = id;
            Options = options;
            _addresses = addresses;
        }

        /// <inheritdoc />
        public PeerId LocalPeer { get; }

        /// <summary>Its options (namespaces, mode, hooks).</summary>
        public KademliaOptions Options { get; }

        /// <summary>False: unreachable (it neither stores nor answers).</summary>
        public bool Online { get; set; } = true;

        /// <summary>Values refused by this peer's namespaces (puts it was sent).</summary>
        public int Refused { get; private set; }

        /// <summary>The value this peer stores under <paramref name="key"/>, or null.</summary>
        public byte[]? Stored(ReadOnlySpan<byte> key) => _values.TryGetValue(Convert.ToHexString(key), out var v) ? v : null;

        /// <summary>Stores a value as a received PUT_VALUE would (validate, merge or select), bypassing the sender's checks: how a malicious peer's put arrives.</summary>
        /// <returns>True when stored (the echo a real peer sends).</returns>
        public async Task<bool> ReceivePutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
        {
            if (!Online || Options.Mode != DhtMode.Server)
            {
                return false;
            }

            var ns = Find(key.Span);
            var now = _network.TimeProvider.GetUtcNow();
            if (ns is null || !ns.Validate(key.Span, value.Span, now).IsValid)
            {
                Refused++;
                return false;
            }

            byte[] stored;
            lock (_storeLock)
            {
                string id = Convert.ToHexString(key.Span);
                if (_values.TryGetValue(id, out var old) && ns.Validate(key.Span, old, now).IsValid)
                {
                    byte[]? merged = ns.Merge(key.Span, old, value.Span);
                    stored = merged ?? (ns.SelectBest(key.Span, [old, value]) == 0 ? old : value.ToArray());
                }
                else
                {
                    stored = value.ToArray();
                }

                _values[id] = stored;
            }

            if (Options.RecordStored is { } hook)
            {
                await hook(key, stored, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }

        /// <inheritdoc />
        public async Task<DhtPutResult> PutValueAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ns = Find(key.Span) ?? throw new ArgumentException("The key names no registered namespace.", nameof(key));
            var verdict = ns.Validate(key.Span, value.Span, _network.TimeProvider.GetUtcNow());
            if (!verdict.IsValid)
            {
                throw new ArgumentException("The value fails its namespace's validation: " + verdict.Reason, nameof(value));
            }

            bool local = Options.Mode == DhtMode.Server && await ReceivePutAsync(key, value, cancellationToken).ConfigureAwait(false);
            int confirmed = 0, asked = 0;
            foreach (var peer in _network.Closest(key.Span).Where(p => p.LocalPeer != LocalPeer))
            {
                asked++;
                if (await peer.ReceivePutAsync(key, value, cancellationToken).ConfigureAwait(false))
                {
                    confirmed++;
                }
            }

            return new DhtPutResult(confirmed, asked, local);
        }

        /// <inheritdoc />
        public Task<IReadOnlyList<DhtValue>> GetValuesAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ns = Find(key.Span);
            var found = new List<(byte[] Value, List<PeerId> From)>();
            if (ns is not null)
            {
                var now = _network.TimeProvider.GetUtcNow();
                var holders = _network.Closest(key.Span);
                if (Options.Mode == DhtMode.Server && Online && !holders.Contains(this))
                {
                    holders.Insert(0, this);
                }

                foreach (var peer in holders)
                {
                    byte[]? value = peer.Stored(key.Span);
                    if (value is null || !ns.Validate(key.Span, value, now).IsValid)
                    {
                        continue;
                    }

                    var same = found.FirstOrDefault(f => f.Value.AsSpan().SequenceEqual(value));
                    if (same.Value is null)
                    {
                        found.Add((value, [peer.LocalPeer]));
                    }
                    else
                    {
                        same.From.Add(peer.LocalPeer);
                    }
                }
            }

            return Task.FromResult<IReadOnlyList<DhtValue>>([.. found.Select(f => new DhtValue(f.Value, f.From))]);
        }

        /// <inheritdoc />
        public Task<int> ProvideAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var me = new DhtPeerInfo(LocalPeer, _addresses());
            int sent = 0;
            foreach (var peer in _network.Closest(key.Span))
            {
                peer._providers.GetOrAdd(Convert.ToHexString(key.Span), _ => new())[LocalPeer] = me;
                sent++;
            }

            return Task.FromResult(sent);
        }

        /// <inheritdoc />
        public Task<IReadOnlyList<DhtPeerInfo>> FindProvidersAsync(ReadOnlyMemory<byte> key, int maxCount, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string id = Convert.ToHexString(key.Span);
            var result = _network.Closest(key.Span)
                .SelectMany(p => p._providers.TryGetValue(id, out var set) ? set.Values : [])
                .DistinctBy(p => p.Peer)
                .Take(maxCount)
                .ToList();
            return Task.FromResult<IReadOnlyList<DhtPeerInfo>>(result);
        }

        /// <inheritdoc />
        public Task<DhtPeerInfo?> FindPeerAsync(PeerId peer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(_network._peers.TryGetValue(peer, out var p) && p.Online ? new DhtPeerInfo(peer, p._addresses()) : null);
        }

        private IDhtRecordNamespace? Find(ReadOnlySpan<byte> key)
        {
            if (key.Length < 2 || key[0] != (byte)'/')
            {
                return null;
            }

            int end = key[1..].IndexOf((byte)'/');
            if (end <= 0)
            {
                return null;
            }

            string name = System.Text.Encoding.ASCII.GetString(key.Slice(1, end));
            return Options.Namespaces.FirstOrDefault(n => n.Name == name);
        }
    }
}
