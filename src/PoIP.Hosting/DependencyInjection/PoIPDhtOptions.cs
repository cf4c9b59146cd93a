using PoIP.Network.Kademlia;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// The transaction layer of a PoIP host: a Kademlia DHT carrying PoIP's signed records (transaction records,
/// provider records per model, capability records per node). Validated at start.
/// </summary>
public sealed class PoIPDhtOptions
{
    /// <summary>Peers dialled at start, each a multiaddr with <c>/p2p/&lt;id&gt;</c>. Empty: this host is the first peer.</summary>
    public IList<string> Bootstrap { get; } = [];

    /// <summary>The DHT protocol id (default <c>/poip/kad/1.0.0</c>; <c>/ipfs/kad/1.0.0</c> joins the public DHT).</summary>
    public string ProtocolId { get; set; } = "/poip/kad/1.0.0";

    /// <summary>Server (default: stores records, answers queries; a validator must serve to see records) or client (only asks).</summary>
    public DhtMode Mode { get; set; } = DhtMode.Server;

    /// <summary>SQLite file of the record store; null keeps records in memory.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>Peers that must confirm a transaction record put (default 1; 0 to 20).</summary>
    public int Quorum { get; set; } = 1;

    /// <summary>Validity of a node's capability record (default 24 h, 1 min to 48 h); republished (and the model re-provided) every half of it.</summary>
    public TimeSpan CapabilityLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>When true, only peers with stake bonded on the host's ledger enter the routing table (Sybil resistance).</summary>
    public bool StakeGated { get; set; }
}
