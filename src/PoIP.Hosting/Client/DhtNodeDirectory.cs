using System.Collections.Concurrent;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Protocol;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;

namespace PoIP.Hosting.Client;

/// <summary>
/// Finds the nodes serving a model in the DHT, with only bootstrap addresses known: the providers of the
/// model's sha2-256 multihash, each joined with its signed capability record (<c>/poip/cap/&lt;peer id&gt;</c>:
/// price per token, measured tokens per second, known-answer result), which the client's competition reads.
/// A capability record counts only when the provider signed it, it names this model and has not expired; the
/// highest sequence wins. Results are cached per model for <see cref="DhtNodeDirectoryOptions.CacheDuration"/>.
/// </summary>
public sealed class DhtNodeDirectory : INodeDirectory
{
    private readonly IKademliaDht _dht;
    private readonly DhtNodeDirectoryOptions _options;
    private readonly ConcurrentDictionary<ModelId, (DateTimeOffset At, IReadOnlyList<NodeListing> Listings)> _cache = new();

    /// <summary>Creates the directory over a started DHT.</summary>
    public DhtNodeDirectory(IKademliaDht dht, DhtNodeDirectoryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dht);
        _dht = dht;
        _options = options ?? new DhtNodeDirectoryOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxNodes, 1, nameof(options));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<NodeListing>> FindNodesAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        var now = _options.TimeProvider.GetUtcNow();
        if (_cache.TryGetValue(model, out var cached) && now - cached.At < _options.CacheDuration && cached.Listings.Count > 0)
        {
            return cached.Listings;
        }

        var providers = await _dht.FindProvidersAsync(PoIPRecordKeys.Provider(model), _options.MaxNodes, cancellationToken).ConfigureAwait(false);
        var lookups = providers.Where(p => p.Addresses.Count > 0).DistinctBy(p => p.Peer).Select(p => ListAsync(p, model, now, cancellationToken));
        // A stable order (by peer id), whatever order the DHT answered in: round robin over it is then fair.
        var listings = (await Task.WhenAll(lookups).ConfigureAwait(false)).OfType<NodeListing>().OrderBy(l => l.Address.PeerId!.Value.ToString(), StringComparer.Ordinal).ToList();
        _cache[model] = (now, listings);
        return listings;
    }

    private async Task<NodeListing?> ListAsync(DhtPeerInfo provider, ModelId model, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var address = provider.Addresses[0].WithPeerId(provider.Peer);
        var capability = await FindCapabilityAsync(provider.Peer, model, now, cancellationToken).ConfigureAwait(false);
        if (capability is null)
        {
            return _options.RequireCapability ? null : new NodeListing(address);
        }

        return new NodeListing(
            address,
            capability.PricePerToken,
            capability.TokensPerSecond > 0 ? capability.TokensPerSecond : null,
            capability.KnownAnswer == KnownAnswerResult.NotRun ? null : capability.KnownAnswer == KnownAnswerResult.Passed);
    }

    private async Task<CapabilityRecord?> FindCapabilityAsync(PeerId node, ModelId model, DateTimeOffset now, CancellationToken cancellationToken)
    {
        CapabilityRecord? best = null;
        foreach (var value in await _dht.GetValuesAsync(PoIPRecordKeys.Capability(node), cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var record = SignedMessage.Open<CapabilityRecord>(value.Value);
                if (record.Signer == node && record.Message.NodeId == node && record.Message.ModelId == model && record.Message.ExpiresAt > now
                    && (best is null || record.Message.Sequence > best.Sequence))
                {
                    best = record.Message;
                }
            }
            catch (PoIPException)
            {
                // another peer's value that this client's rules refuse: ignored
            }
        }

        return best;
    }
}
