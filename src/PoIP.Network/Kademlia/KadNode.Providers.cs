using Google.Protobuf;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia.Wire;

namespace PoIP.Network.Kademlia;

/// <summary>Provider records: announce to the k closest, find from them.</summary>
internal sealed partial class KadNode
{
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
}
