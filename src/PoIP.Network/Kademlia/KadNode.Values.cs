using System.Globalization;
using Google.Protobuf;
using PoIP.Core.Identity;
using PoIP.Network.Internal;
using PoIP.Network.Kademlia.Wire;

namespace PoIP.Network.Kademlia;

/// <summary>Value records: validation through the key's namespace, merge or select against what is stored, put on the k closest, get from them.</summary>
internal sealed partial class KadNode
{
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

    /// <summary>
    /// Validates, merges or selects, and stores a value; returns why not (null when stored). <paramref name="published"/>
    /// is when the originator last put it (a replica's record says so; expiry counts from it), clamped to the last
    /// <see cref="KademliaOptions.RecordTtl"/> and never earlier than what is stored for the same value.
    /// </summary>
    private string? StoreValue(byte[] key, byte[] value, PeerId from, out bool misbehaved, DateTimeOffset? published = null)
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
        var since = published is { } p && p <= now && now - p < _options.RecordTtl ? p : now;
        lock (_lock)
        {
            if (Store.GetValue(key, now) is { } existing && ns.Validate(key, existing.Value, now).IsValid)
            {
                if (existing.Value.AsSpan().SequenceEqual(value))
                {
                    since = since > existing.Received ? since : existing.Received; // an old replica never shortens a value's life
                }
                else
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

            var refusal = Store.PutValue(new StoredValue(key, final, from, since) { LastPut = now });
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

        return await PublishValueAsync(k, v, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Puts a value on the k closest peers: our own (stored here too, dated now) or a replica (dated <paramref name="replicaOf"/>).</summary>
    private async Task<DhtPutResult> PublishValueAsync(byte[] k, byte[] v, DateTimeOffset? replicaOf, CancellationToken cancellationToken)
    {
        bool local = replicaOf is null && _options.Mode == DhtMode.Server && StoreValue(k, v, Self, out _) is null;
        var lookup = await FindClosestAsync(k, followUp: true, cancellationToken).ConfigureAwait(false);
        var request = new Message
        {
            Type = Message.Types.MessageType.PutValue,
            Key = ByteString.CopyFrom(k),
            Record = ToRecord(k, v, replicaOf ?? _time.GetUtcNow()),
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
}
