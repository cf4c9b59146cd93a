using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using PoIP.Core.Identity;

namespace PoIP.Network.Kademlia;

/// <summary>
/// CONTRACT SKELETON (branch wip/dht-contract): the shape both DHT branches build against. The DHT branch
/// replaces every body; this file never lands on main as it is.
/// </summary>
public sealed class KademliaDht : IKademliaDht, IAsyncDisposable
{
    private KademliaDht(Libp2pHost host) => LocalPeer = host.PeerId;

    /// <summary>Creates a DHT on a libp2p host (registers the protocol handler in server mode; call <see cref="StartAsync"/> to bootstrap).</summary>
    public static KademliaDht Create(Libp2pHost host, KademliaOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(options);
        return new KademliaDht(host);
    }

    /// <inheritdoc />
    public PeerId LocalPeer { get; }

    /// <summary>Dials the bootstrap peers, fills the routing table and starts the periodic refresh and republish.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc />
    public Task<DhtPutResult> PutValueAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc />
    public Task<IReadOnlyList<DhtValue>> GetValuesAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc />
    public Task<int> ProvideAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc />
    public Task<IReadOnlyList<DhtPeerInfo>> FindProvidersAsync(ReadOnlyMemory<byte> key, int maxCount, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc />
    public Task<DhtPeerInfo?> FindPeerAsync(PeerId peer, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
