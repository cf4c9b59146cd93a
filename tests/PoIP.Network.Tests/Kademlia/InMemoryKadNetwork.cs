using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Wire;

namespace PoIP.Network.Kademlia.Testing;

/// <summary>
/// Many <see cref="KadNode"/>s in one process over an in-memory <see cref="IKadTransport"/>: every request and
/// reply is encoded and decoded as on the wire (so sizes are counted and the codec is exercised), peers can
/// leave (requests to them fail), and an interceptor can make peers adversarial. Used by the unit tests and by
/// the <c>dht</c> simulation benchmark (linked into bench/PoIP.Benchmarks).
/// </summary>
internal sealed class InMemoryKadNetwork
{
    private readonly Dictionary<PeerId, KadNode> _nodes = [];
    private readonly HashSet<PeerId> _down = [];
    private readonly Dictionary<PeerId, IReadOnlyList<Multiaddr>> _addresses = [];
    private readonly Lock _lock = new();
    private long _requests;
    private long _bytes;
    private int _next;

    /// <summary>Called for every request to a peer; a non-null result replaces that peer's own answer.</summary>
    public Func<PeerId, PeerId, Message, Message?>? Interceptor { get; set; }

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>How many peers were added so far (the next one's address is made from it).</summary>
    public int NextIndex
    {
        get => Volatile.Read(ref _next);
        set => Volatile.Write(ref _next, value);
    }

    public long Bytes => Interlocked.Read(ref _bytes);

    public void ResetCounters()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _bytes, 0);
    }

    public static PeerId RandomPeerId()
    {
        byte[] key = new byte[36];
        key[0] = 0x08;
        key[1] = 0x01;
        key[2] = 0x12;
        key[3] = 0x20;
        RandomNumberGenerator.Fill(key.AsSpan(4));
        return PeerId.FromEncodedPublicKey(key);
    }

    public KadNode Add(KademliaOptions options, TimeProvider time, PeerId? id = null, IReadOnlyList<Multiaddr>? addresses = null, KadMetrics? metrics = null)
    {
        var peer = id ?? RandomPeerId();
        int n = Interlocked.Increment(ref _next);
        IReadOnlyList<Multiaddr> addrs = addresses ?? [Multiaddr.Parse($"/ip4/10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}/tcp/4001")];
        var node = new KadNode(peer, () => addrs, options, new Transport(this, peer), time, NullLogger.Instance, metrics ?? new KadMetrics(null, () => 0, () => 0));
        lock (_lock)
        {
            _nodes[peer] = node;
            _addresses[peer] = addrs;
        }

        return node;
    }

    public KadPeer PeerOf(KadNode node)
    {
        lock (_lock)
        {
            return new(node.Self, _addresses[node.Self]);
        }
    }

    public void SetDown(PeerId peer, bool down)
    {
        lock (_lock)
        {
            if (down)
            {
                _down.Add(peer);
            }
            else
            {
                _down.Remove(peer);
            }
        }
    }

    public KadNode? Find(PeerId peer)
    {
        lock (_lock)
        {
            return _nodes.GetValueOrDefault(peer);
        }
    }

    /// <summary>
    /// Routing tables as a converged network has them: for every shared-prefix length c, up to k random peers
    /// whose ids share exactly c leading bits with the node's (the peers of bucket c), admitted through the
    /// table's own rules.
    /// </summary>
    public void FillConvergedTables(IReadOnlyList<KadNode> nodes, Random rng, long now)
    {
        var peers = nodes.Select(PeerOf).OrderBy(p => p.Id).ToArray();
        var ids = peers.Select(p => p.Id).ToArray();
        foreach (var node in nodes)
        {
            var self = node.Table.Local;
            for (int c = 0; c < KadId.Bits; c++)
            {
                // Peers sharing exactly c bits: the prefix of length c + 1 equal to ours with bit c flipped.
                var low = Prefix(self, c + 1, flipLast: true, fill: false);
                var high = Prefix(self, c + 1, flipLast: true, fill: true);
                int lo = LowerBound(ids, low);
                int hi = LowerBound(ids, high) + (LowerBound(ids, high) < ids.Length && ids[LowerBound(ids, high)].Equals(high) ? 1 : 0);
                int count = hi - lo;
                if (count > 0)
                {
                    foreach (int j in Enumerable.Range(lo, count).OrderBy(_ => rng.Next()).Take(node.Options.BucketSize))
                    {
                        node.Table.TryAdd(peers[j], now);
                    }
                }

                var sameLow = Prefix(self, c + 1, flipLast: false, fill: false);
                var sameHigh = Prefix(self, c + 1, flipLast: false, fill: true);
                if (LowerBound(ids, sameHigh) - LowerBound(ids, sameLow) <= 1 && !(LowerBound(ids, sameHigh) < ids.Length && ids[LowerBound(ids, sameHigh)].Equals(sameHigh)))
                {
                    break; // nobody else shares more than c bits with us
                }
            }
        }
    }

    private static KadId Prefix(KadId id, int bits, bool flipLast, bool fill)
    {
        Span<ulong> w = [id.A, id.B, id.C, id.D];
        for (int word = 0; word < 4; word++)
        {
            int keep = Math.Clamp(bits - (word * 64), 0, 64);
            ulong mask = keep == 0 ? 0 : keep == 64 ? ulong.MaxValue : ~(ulong.MaxValue >> keep);
            w[word] = fill ? (w[word] & mask) | ~mask : w[word] & mask;
        }

        if (flipLast)
        {
            int bit = bits - 1;
            w[bit / 64] ^= 1UL << (63 - (bit % 64));
        }

        return new KadId(w[0], w[1], w[2], w[3]);
    }

    private static int LowerBound(KadId[] sorted, KadId value)
    {
        int lo = 0;
        int hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (sorted[mid].CompareTo(value) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    public List<PeerId> Disconnects { get; } = [];

    private sealed class Transport(InMemoryKadNetwork network, PeerId self) : IKadTransport
    {
        public Task<Message?> SendAsync(KadPeer peer, Message request, bool expectReply, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            KadNode? target;
            lock (network._lock)
            {
                target = network._down.Contains(peer.Peer) || network._down.Contains(self) ? null : network._nodes.GetValueOrDefault(peer.Peer);
            }

            if (target is null || target.Options.Mode != DhtMode.Server)
            {
                return Task.FromException<Message?>(new IOException($"{peer.Peer} unreachable"));
            }

            byte[] frame = KadCodec.EncodeFrame(request);
            Interlocked.Increment(ref network._requests);
            Interlocked.Add(ref network._bytes, frame.Length);
            var decoded = KadCodec.Decode(frame.AsSpan(PrefixLength(frame)), target.Options.MaxMessageSize);
            Message? reply;
            if (network.Interceptor?.Invoke(peer.Peer, self, decoded) is { } forged)
            {
                reply = forged;
            }
            else
            {
                var result = target.HandleRequest(self, decoded);
                if (result.Disconnect)
                {
                    lock (network._lock)
                    {
                        network.Disconnects.Add(self);
                    }
                }

                if (result.Refusal is not null)
                {
                    return Task.FromException<Message?>(new IOException("refused: " + result.Refusal));
                }

                reply = result.Reply;
                KadNode? sender;
                IReadOnlyList<Multiaddr>? senderAddresses;
                lock (network._lock)
                {
                    sender = network._nodes.GetValueOrDefault(self);
                    senderAddresses = network._addresses.GetValueOrDefault(self);
                }

                if (sender is not null && sender.Options.Mode == DhtMode.Server && !target.Table.Contains(self))
                {
                    // What identify does on libp2p: a server peer that talks to us on the protocol is admitted.
                    _ = target.AdmitServingPeerAsync(new KadPeer(self, senderAddresses ?? []), CancellationToken.None).AsTask();
                }
            }

            if (!expectReply)
            {
                return Task.FromResult<Message?>(null);
            }

            if (reply is null)
            {
                return Task.FromException<Message?>(new IOException("no reply"));
            }

            byte[] back = KadCodec.EncodeFrame(reply);
            Interlocked.Add(ref network._bytes, back.Length);
            return Task.FromResult<Message?>(KadCodec.Decode(back.AsSpan(PrefixLength(back)), int.MaxValue));
        }

        public void Disconnect(PeerId peer)
        {
        }

        public bool IsConnected(PeerId peer) => false;

        private static int PrefixLength(byte[] frame)
        {
            int i = 0;
            while ((frame[i] & 0x80) != 0)
            {
                i++;
            }

            return i + 1;
        }
    }
}
