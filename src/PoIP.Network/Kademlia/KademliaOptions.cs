using PoIP.Core.Identity;
using PoIP.Network.Addressing;

namespace PoIP.Network.Kademlia;

/// <summary>
/// Options of <see cref="KademliaDht"/>. Defaults follow libp2p kad-dht (k = 20, 48 h record expiry,
/// providers republished every 22 h). (Contract agreed between the DHT branches; the DHT branch owns the
/// rest of the options and their validation.)
/// </summary>
public sealed class KademliaOptions
{
    /// <summary>The protocol id: <c>/poip/kad/1.0.0</c> (PoIP's own network, default) or <c>/ipfs/kad/1.0.0</c> (the public one).</summary>
    public string ProtocolId { get; set; } = "/poip/kad/1.0.0";

    /// <summary>Server mode answers queries and enters others' routing tables; client mode only asks.</summary>
    public DhtMode Mode { get; set; } = DhtMode.Server;

    /// <summary>Peers dialled at start (each with <c>/p2p/</c>).</summary>
    public IList<Multiaddr> BootstrapPeers { get; } = [];

    /// <summary>The SQLite file of the record store; null keeps records in memory only.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>The value-record namespaces this peer validates (a record under any other namespace is refused).</summary>
    public IList<IDhtRecordNamespace> Namespaces { get; } = [];

    /// <summary>
    /// Optional stake gate: a peer for which this returns false never enters the routing table.
    /// </summary>
    public Func<PeerId, CancellationToken, ValueTask<bool>>? AdmitPeer { get; set; }

    /// <summary>
    /// Called after a value record was stored locally (new, or merged into a stored value) with the key and the
    /// value now stored, already validated. A validator uses it to see the transaction records that reach it.
    /// Called off the protocol's read loop; an exception it throws is logged and ignored.
    /// </summary>
    public Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>, CancellationToken, ValueTask>? RecordStored { get; set; }
}
