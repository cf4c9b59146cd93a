using PoIP.Core.Identity;
using PoIP.Network.Internal;
using PoIP.Network.Kademlia.Wire;

namespace PoIP.Network.Kademlia;

/// <summary>Inbound requests: what a peer may ask of this one, and what it is refused.</summary>
internal sealed partial class KadNode
{
    /// <summary>Serves one request from an authenticated peer.</summary>
    public KadHandleResult HandleRequest(PeerId from, Message request)
    {
        string type = request.Type.ToString();
        if (!_limiter.TryAcquire(from))
        {
            return Refuse(from, type, "flood", disconnect: true);
        }

        if (request.Key.Length > _options.MaxKeySize)
        {
            return Strike(from, type, "oversized-key");
        }

        Metrics.Inbound(type);
        switch (request.Type)
        {
            case Message.Types.MessageType.Ping:
                return KadHandleResult.Served(new Message { Type = Message.Types.MessageType.Ping });
            case Message.Types.MessageType.FindNode:
                {
                    var reply = new Message { Type = request.Type, Key = request.Key };
                    if (request.Key.Span.SequenceEqual(Self.Bytes))
                    {
                        reply.CloserPeers.Add(KadCodec.ToWire(Self, _localAddresses(), connected: true));
                    }

                    AddCloser(reply, request.Key.Span, from);
                    return KadHandleResult.Served(reply);
                }

            case Message.Types.MessageType.GetValue:
                return KadHandleResult.Served(ServeGetValue(request, from));
            case Message.Types.MessageType.PutValue:
                return ServePutValue(request, from, type);
            case Message.Types.MessageType.AddProvider:
                return ServeAddProvider(request, from, type);
            case Message.Types.MessageType.GetProviders:
                {
                    var reply = new Message { Type = request.Type, Key = request.Key };
                    if (KadCodec.IsProviderKey(request.Key.Span))
                    {
                        foreach (var p in Store.GetProviders(request.Key.Span, _time.GetUtcNow(), MaxProvidersPerReply))
                        {
                            reply.ProviderPeers.Add(KadCodec.ToWire(p.Provider, p.Addresses, _transport.IsConnected(p.Provider)));
                        }
                    }

                    AddCloser(reply, request.Key.Span, from);
                    return KadHandleResult.Served(reply);
                }

            default:
                return Strike(from, type, "unknown-type");
        }
    }

    /// <summary>Counts a malformed or oversized message from a peer (the transport could not decode it): the peer is disconnected.</summary>
    public bool RefuseMalformed(PeerId from, string reason) => Refuse(from, "?", reason, disconnect: true).Disconnect;

    private Message ServeGetValue(Message request, PeerId from)
    {
        var reply = new Message { Type = request.Type, Key = request.Key };
        var key = request.Key.Span;
        if (NamespaceOf(key) is { } ns)
        {
            var now = _time.GetUtcNow();
            if (Store.GetValue(key, now) is { } stored)
            {
                if (ns.Validate(key, stored.Value, now).IsValid)
                {
                    reply.Record = ToRecord(stored.Key, stored.Value, stored.Received);
                }
                else
                {
                    Store.RemoveValue(key); // expired by its own rules since it was stored
                }
            }
        }

        AddCloser(reply, key, from);
        return reply;
    }

    private KadHandleResult ServePutValue(Message request, PeerId from, string type)
    {
        if (request.Record is null || !request.Record.Key.Span.SequenceEqual(request.Key.Span))
        {
            return Strike(from, type, "key-mismatch");
        }

        string? refusal = StoreValue(request.Key.ToByteArray(), request.Record.Value.ToByteArray(), from, out bool misbehaved, PublishedAt(request.Record));
        if (refusal is not null)
        {
            return misbehaved ? Strike(from, type, refusal) : Refuse(from, type, refusal, disconnect: false);
        }

        return KadHandleResult.Served(request.Clone()); // the echo js and go compare
    }

    /// <summary>The record's <c>timeReceived</c> (RFC 3339, as js and this code write it), or null when absent or unreadable.</summary>
    private static DateTimeOffset? PublishedAt(Record record) =>
        record.TimeReceived.Length is > 0 and <= 64
        && DateTimeOffset.TryParse(record.TimeReceived, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : null;

    private KadHandleResult ServeAddProvider(Message request, PeerId from, string type)
    {
        if (!KadCodec.IsProviderKey(request.Key.Span))
        {
            return Strike(from, type, "bad-provider-key");
        }

        var providers = KadCodec.ReadPeers(request.ProviderPeers, out _);
        bool stored = false;
        foreach (var p in providers)
        {
            if (p.Peer != from)
            {
                Metrics.Refused("foreign-provider");
                continue;
            }

            var refusal = Store.AddProvider(new StoredProvider(request.Key.ToByteArray(), from, p.Addresses, _time.GetUtcNow()));
            if (refusal != StoreRefusal.None)
            {
                return Refuse(from, type, "store-" + refusal.ToString().ToLowerInvariant(), disconnect: false);
            }

            Metrics.Stored("provider");
            stored = true;
        }

        return stored ? KadHandleResult.Served(null) : Strike(from, type, "foreign-provider");
    }

    private void AddCloser(Message reply, ReadOnlySpan<byte> key, PeerId requester)
    {
        foreach (var p in Table.Nearest(KadId.FromKey(key), K, requester))
        {
            reply.CloserPeers.Add(KadCodec.ToWire(p.Peer, p.Addresses, _transport.IsConnected(p.Peer)));
        }
    }

    private KadHandleResult Strike(PeerId from, string type, string reason)
    {
        bool disconnect;
        lock (_lock)
        {
            if (_strikes.Count >= MaxTrackedPeers && !_strikes.ContainsKey(from))
            {
                _strikes.Clear();
            }

            int n = _strikes.GetValueOrDefault(from) + 1;
            _strikes[from] = n;
            disconnect = n >= _options.MaxStrikes;
        }

        return Refuse(from, type, reason, disconnect);
    }

    private KadHandleResult Refuse(PeerId from, string type, string reason, bool disconnect)
    {
        Metrics.Refused(reason);
        Log.DhtRefused(_logger, type, from.ToString(), reason);
        if (disconnect)
        {
            Metrics.Disconnected();
            Log.DhtDisconnect(_logger, from.ToString(), reason);
            Table.Remove(from);
            lock (_lock)
            {
                _strikes.Remove(from);
            }
        }

        return new KadHandleResult(null, reason, disconnect);
    }
}
