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
    /// <summary>Largest kad-dht message read or written, in bytes (default 1 MiB; js and go accept 4 MiB). See docs/network.md.</summary>
    public int MaxMessageSize { get; set; } = 1 << 20;

    /// <summary>Largest record value accepted, in bytes (default 64 KiB).</summary>
    public int MaxValueSize { get; set; } = 64 * 1024;

    /// <summary>Longest key accepted, in bytes (default 512).</summary>
    public int MaxKeySize { get; set; } = 512;

    /// <summary>Replication parameter and bucket size k (default 20).</summary>
    public int BucketSize { get; set; } = 20;

    /// <summary>Concurrent requests of one lookup, over all its paths (default 3, as rust-libp2p; js uses 10).</summary>
    public int Alpha { get; set; } = 3;

    /// <summary>Disjoint lookup paths (S/Kademlia d; default 3). 1 is a plain Kademlia lookup.</summary>
    public int DisjointPaths { get; set; } = 3;

    /// <summary>A path ends when this many of its closest peers have answered (go's β; default 3).</summary>
    public int Resiliency { get; set; } = 3;

    /// <summary>How long one request may take (default 10 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Routing-table refresh period (default 10 min; zero disables).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a stored value or provider record lives (default 48 h).</summary>
    public TimeSpan RecordTtl { get; set; } = TimeSpan.FromHours(48);

    /// <summary>How often this peer re-announces its provider records and re-puts its own values (default 22 h).</summary>
    public TimeSpan RepublishInterval { get; set; } = TimeSpan.FromHours(22);

    /// <summary>
    /// How often a peer holding someone else's value re-puts it to the k peers now closest to its key, unless a put
    /// of that key reached it within this interval (Kademlia's hourly replication: under churn the holders drift
    /// away from the closest peers between the originator's republishes). Default 1 h; zero disables. A value's
    /// expiry still counts from the originator's last put (the replica carries that time).
    /// </summary>
    public TimeSpan ReplicateInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most value records stored in total (default 65,536).</summary>
    public int MaxRecords { get; set; } = 65_536;

    /// <summary>Most value records one peer may have stored here (default 1,024).</summary>
    public int MaxRecordsPerPeer { get; set; } = 1_024;

    /// <summary>Most provider entries stored in total (default 65,536).</summary>
    public int MaxProviderRecords { get; set; } = 65_536;

    /// <summary>Most providers kept per key (default 64).</summary>
    public int MaxProvidersPerKey { get; set; } = 64;

    /// <summary>Most provider keys one peer may provide here (default 1,024).</summary>
    public int MaxProviderKeysPerPeer { get; set; } = 1_024;

    /// <summary>Routing-table peers per address group per bucket (go: 2; loopback and private addresses are exempt).</summary>
    public int MaxPeersPerGroupInBucket { get; set; } = 2;

    /// <summary>Routing-table peers per address group in the whole table (go: 3).</summary>
    public int MaxPeersPerGroupInTable { get; set; } = 3;

    /// <summary>Requests per second one peer may send (token bucket; default 50, burst <see cref="RequestBurst"/>). Beyond it: refused, counted, disconnected.</summary>
    public double RequestsPerSecond { get; set; } = 50;

    /// <summary>Burst size of the per-peer request budget (default 200).</summary>
    public int RequestBurst { get; set; } = 200;

    /// <summary>Refused requests (bad records, foreign provider entries) after which a peer is disconnected (default 3).</summary>
    public int MaxStrikes { get; set; } = 3;

    /// <summary>
    /// Whether peers with only loopback or private addresses may enter the routing table and be returned to
    /// others (default true; a node on the public network may turn it off).
    /// </summary>
    public bool AllowPrivateAddresses { get; set; } = true;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        Check(ProtocolId.StartsWith('/') && ProtocolId.Length <= 128 && !ProtocolId.Contains('\n', StringComparison.Ordinal), nameof(ProtocolId), "must start with '/' and be at most 128 characters");
        Check(MaxMessageSize is >= 4096 and <= 4 << 20, nameof(MaxMessageSize), "must be 4 KiB to 4 MiB");
        Check(MaxValueSize > 0 && MaxValueSize <= MaxMessageSize / 2, nameof(MaxValueSize), "must be positive and at most half MaxMessageSize");
        Check(MaxKeySize is > 0 and <= 4096, nameof(MaxKeySize), "must be 1 to 4096");
        Check(BucketSize is >= 1 and <= 64, nameof(BucketSize), "must be 1 to 64");
        Check(Alpha is >= 1 and <= 64, nameof(Alpha), "must be 1 to 64");
        Check(DisjointPaths >= 1 && DisjointPaths <= Alpha * 4, nameof(DisjointPaths), "must be at least 1");
        Check(Resiliency >= 1 && Resiliency <= BucketSize, nameof(Resiliency), "must be 1 to BucketSize");
        Check(RequestTimeout > TimeSpan.Zero, nameof(RequestTimeout), "must be positive");
        Check(RefreshInterval >= TimeSpan.Zero, nameof(RefreshInterval), "must not be negative");
        Check(RecordTtl > TimeSpan.Zero, nameof(RecordTtl), "must be positive");
        Check(RepublishInterval > TimeSpan.Zero && RepublishInterval < RecordTtl, nameof(RepublishInterval), "must be positive and shorter than RecordTtl");
        Check(ReplicateInterval >= TimeSpan.Zero && ReplicateInterval < RecordTtl, nameof(ReplicateInterval), "must not be negative and shorter than RecordTtl");
        Check(MaxRecords > 0 && MaxRecordsPerPeer > 0 && MaxProviderRecords > 0 && MaxProvidersPerKey > 0 && MaxProviderKeysPerPeer > 0, nameof(MaxRecords), "store limits must be positive");
        Check(MaxPeersPerGroupInBucket > 0 && MaxPeersPerGroupInTable >= MaxPeersPerGroupInBucket, nameof(MaxPeersPerGroupInTable), "group limits must be positive, table limit at least the bucket limit");
        Check(RequestsPerSecond > 0 && RequestBurst > 0, nameof(RequestsPerSecond), "must be positive");
        Check(MaxStrikes > 0, nameof(MaxStrikes), "must be positive");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ns in Namespaces)
        {
            Check(ns is not null && ns.Name.Length > 0 && !ns.Name.Contains('/', StringComparison.Ordinal) && names.Add(ns.Name), nameof(Namespaces), "names must be non-empty, without '/', and distinct");
        }

        static void Check(bool ok, string name, string rule)
        {
            if (!ok)
            {
                throw new ArgumentException($"KademliaOptions.{name} {rule}.", name);
            }
        }
    }
}
