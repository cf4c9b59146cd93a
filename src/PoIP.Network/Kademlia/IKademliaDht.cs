using PoIP.Core.Identity;

namespace PoIP.Network.Kademlia;

/// <summary>
/// A Kademlia DHT (libp2p kad-dht wire protocol) as the transaction layer uses it: value records
/// validated per namespace, provider records, peer lookups. Every value returned has passed its
/// namespace's validation.
/// </summary>
public interface IKademliaDht
{
    /// <summary>This peer's id.</summary>
    PeerId LocalPeer { get; }

    /// <summary>
    /// Stores a value under a key on the closest peers (and locally when serving). The result says how many
    /// peers confirmed it (a PUT_VALUE echo that matched): a quorum, not fire and forget.
    /// </summary>
    /// <exception cref="ArgumentException">The value fails its namespace's validation, or the key has no namespace.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<DhtPutResult> PutValueAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every distinct valid value found for a key among the closest peers (and locally), each with the peers that
    /// returned it; empty when none. Nothing is overwritten on the way (no read-path "correction").
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<IReadOnlyList<DhtValue>> GetValuesAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default);

    /// <summary>Announces this peer as a provider of <paramref name="key"/> (a multihash) to the closest peers; returns how many were sent the record.</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<int> ProvideAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="maxCount"/> providers of <paramref name="key"/> (a multihash), with their addresses.</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<IReadOnlyList<DhtPeerInfo>> FindProvidersAsync(ReadOnlyMemory<byte> key, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>The addresses of <paramref name="peer"/>, or null when no lookup found it.</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<DhtPeerInfo?> FindPeerAsync(PeerId peer, CancellationToken cancellationToken = default);
}
