using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Identity;
using PoIP.Network.Kademlia;

namespace PoIP.Network.Kademlia.Testing;

/// <summary>
/// The churn simulation shared by the <c>dht</c> benchmark (linked into bench/PoIP.Benchmarks) and its bounded slice in
/// the tests: N real <see cref="KadNode"/>s over <see cref="InMemoryKadNetwork"/> on a fake clock, tables as a converged
/// network has them, log-normal sessions (median 2 h, 90th percentile 12 h; each leaver replaced by a joiner that
/// bootstraps with the real code), and every step (one <see cref="KademliaOptions.RefreshInterval"/>) the upkeep the
/// timers would run: <see cref="KadNode.RefreshAsync"/> (lookups, then ping-and-evict) and <see cref="KadNode.ReplicateAsync"/>.
/// </summary>
internal sealed class KadChurnWorld
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private KadChurnWorld(int seed, KademliaOptions options, DateTimeOffset now)
    {
        Seed = seed;
        Options = options;
        Time = new(now);

        // A world read back from a checkpoint draws on from a generator seeded with the seed and the clock.
        Rng = new Random(now == Start ? seed : unchecked(seed + (int)((now - Start).Ticks / TimeSpan.TicksPerMinute)));
    }

    public int Seed { get; }

    public Random Rng { get; }

    public KademliaOptions Options { get; }

    public InMemoryKadNetwork Net { get; } = new();

    public FakeTimeProvider Time { get; }

    public KadMetrics Metrics { get; } = new(null, () => 0, () => 0);

    public List<KadNode> Alive { get; } = [];

    public Dictionary<PeerId, DateTimeOffset> LeavesAt { get; } = [];

    /// <summary>Peers that never leave (publishers).</summary>
    public HashSet<PeerId> Permanent { get; } = [];

    public static KadChurnWorld Create(int n, KademliaOptions options, int seed)
    {
        var world = new KadChurnWorld(seed, options, Start);
        for (int i = 0; i < n; i++)
        {
            var node = world.Net.Add(options, world.Time, metrics: world.Metrics);
            world.Alive.Add(node);
            world.LeavesAt[node.Self] = world.Time.GetUtcNow() + world.Session();
        }

        world.Net.FillConvergedTables(world.Alive, world.Rng, world.Time.GetTimestamp());
        return world;
    }

    /// <summary>A world with no peers yet, its clock at <paramref name="now"/> (for <see cref="KadChurnCheckpoint.Read"/>).</summary>
    public static KadChurnWorld Empty(KademliaOptions options, int seed, DateTimeOffset now) => new(seed, options, now);

    /// <summary>Adds a live peer with a saved state (<see cref="KadChurnCheckpoint.Read"/>).</summary>
    public KadNode AddRestored(KadPeer self, DateTimeOffset leavesAt, bool permanent, KadNodeSnapshot snapshot)
    {
        var node = Net.Add(Options, Time, self.Peer, self.Addresses, Metrics);
        node.Restore(snapshot);
        Alive.Add(node);
        LeavesAt[node.Self] = leavesAt;
        if (permanent)
        {
            Permanent.Add(node.Self);
        }

        return node;
    }

    /// <summary>A session length: log-normal, median 2 h, 90th percentile 12 h (sigma = ln 6 / 1.2816).</summary>
    public TimeSpan Session()
    {
        double z = Math.Sqrt(-2 * Math.Log(1 - Rng.NextDouble())) * Math.Cos(2 * Math.PI * Rng.NextDouble());
        return TimeSpan.FromHours(Math.Exp(Math.Log(2) + (Math.Log(6) / 1.2816 * z)));
    }

    /// <summary>One step: the clock moves one refresh period, leavers go, as many joiners bootstrap, every live peer runs its upkeep. Returns how many joined.</summary>
    public async Task<int> StepAsync(CancellationToken cancellationToken)
    {
        Time.Advance(Options.RefreshInterval);
        var now = Time.GetUtcNow();
        var leaving = Alive.Where(a => !Permanent.Contains(a.Self) && LeavesAt[a.Self] <= now).ToList();
        foreach (var l in leaving)
        {
            Net.SetDown(l.Self, true);
            Alive.Remove(l);
        }

        foreach (var _ in leaving)
        {
            var node = Net.Add(Options, Time, metrics: Metrics);
            LeavesAt[node.Self] = now + Session();
            var bootstrap = Alive[Rng.Next(Alive.Count)];
            Alive.Add(node);
            await node.BootstrapAsync([Net.PeerOf(bootstrap)], cancellationToken);
        }

        await Parallel.ForEachAsync(Alive.ToList(), cancellationToken, async (node, ct) =>
        {
            await node.RefreshAsync(ct);
            await node.ReplicateAsync(ct);
        });
        return leaving.Count;
    }

    /// <summary>
    /// Lookups of a random live peer's id from a random live peer: success = the target is the closest peer returned;
    /// hops of the successful ones; FIND_NODE calls (failed ones included) and bytes of each.
    /// </summary>
    public async Task<(List<double> Hops, double Success, List<double> Calls, List<double> Bytes)> LookupsAsync(List<KadNode> from, int count, CancellationToken cancellationToken)
    {
        var hops = new List<double>();
        var calls = new List<double>();
        var bytes = new List<double>();
        int found = 0;
        for (int i = 0; i < count; i++)
        {
            var source = from[Rng.Next(from.Count)];
            KadNode target;
            do
            {
                target = from[Rng.Next(from.Count)];
            }
            while (target == source);

            long before = Net.Bytes;
            var r = await source.FindClosestAsync(target.Self.ToArray(), followUp: false, cancellationToken);
            bytes.Add(Net.Bytes - before);
            calls.Add(r.Queries);
            if (r.Closest.Count > 0 && r.Closest[0].Peer == target.Self)
            {
                found++;
                hops.Add(r.Hops);
            }
        }

        return (hops, found / (double)count, calls, bytes);
    }

    /// <summary>Live peers other than the publishers that hold <paramref name="key"/> now.</summary>
    public int Holders(byte[] key) => Alive.Count(a => !Permanent.Contains(a.Self) && a.Store.GetValue(key, Time.GetUtcNow()) is not null);
}
