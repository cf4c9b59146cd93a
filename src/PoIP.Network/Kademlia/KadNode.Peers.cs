using Google.Protobuf;
using PoIP.Core.Identity;
using PoIP.Network.Kademlia.Wire;

namespace PoIP.Network.Kademlia;

/// <summary>Peers: lookups, one request with its timeout and stake gate, and routing-table admission and liveness.</summary>
internal sealed partial class KadNode
{
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
        var target = KadId.FromKey(key);
        var seeds = Table.Nearest(target, K);
        if (seeds.Count == 0 && await RejoinAsync(cancellationToken).ConfigureAwait(false))
        {
            seeds = Table.Nearest(target, K);
        }

        return await KadLookup.RunAsync(target, seeds, Self, async (peer, ct) =>
        {
            var reply = await RequestAsync(peer, request, expectReply: true, ct).ConfigureAwait(false)
                ?? throw new InvalidOperationException("no reply");
            onReply?.Invoke(new QueryReply(peer.Peer, peer, reply));
            return ReadCloser(reply);
        }, Parameters(followUp), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// No peer left to ask (every one failed, so each is evicted or a suspect: this peer was cut off from the DHT): the
    /// bootstrap peers are asked again, as at start, whether or not they are still in the table as suspects, so that the
    /// first lookup after the network heals finds the DHT again (one that answers is a live table peer again).
    /// </summary>
    /// <returns>Whether there were bootstrap peers to ask.</returns>
    private async Task<bool> RejoinAsync(CancellationToken cancellationToken)
    {
        var peers = Volatile.Read(ref _bootstrapPeers);
        await Task.WhenAll(peers.Select(async peer =>
        {
            try
            {
                await RequestAsync(peer, new Message { Type = Message.Types.MessageType.FindNode, Key = ByteString.CopyFrom(Self.Bytes) }, expectReply: true, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // still cut off: the lookup finds nobody, as before
            }
        })).ConfigureAwait(false);
        return peers.Length > 0;
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

        // Paced per peer within the budget PoIP's own DHT enforces on the other side: a busy honest node (a gateway
        // recording every answer) is otherwise refused as a flood and disconnected, with every libp2p stream it
        // carries to that peer (inference included). The wait is bounded; beyond it the request is not sent.
        if (!_outbound.TryReserve(peer.Peer, _options.RequestTimeout, out var pace))
        {
            Metrics.Outbound(type, ok: false);
            throw new InvalidOperationException($"the request budget for {peer.Peer} is spent for longer than {_options.RequestTimeout.TotalSeconds:0.#} s");
        }

        if (pace > TimeSpan.Zero)
        {
            using var paced = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            await Task.Delay(pace, _time, paced.Token).ConfigureAwait(false);
        }

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
}
