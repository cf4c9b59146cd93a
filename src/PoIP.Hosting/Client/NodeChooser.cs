using System.Collections.Concurrent;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Reputation;
using PoIP.Economics.Selection;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.Client;

/// <summary>
/// The client's routing state: which nodes it has tried, their latency (moving average of the time
/// to the first token), and the <see cref="NodeSelector"/> competition between them (or round robin).
/// A node left without requests for <see cref="PoIPClientOptions.ReexploreAfter"/> is tried again, and
/// its fresh measure replaces the old one.
/// </summary>
internal sealed class NodeChooser
{
    private const double LatencySmoothing = 0.3;

    private readonly NodeSelectionPolicy _policy;
    private readonly NodeSelector _selector;
    private readonly Lock _selectorLock = new();
    private readonly ReputationBook _reputation;
    private readonly StakeCache _stakes;
    private readonly ConcurrentDictionary<PeerId, double> _latencyTicks = new();
    private readonly ConcurrentDictionary<PeerId, byte> _attempted = new();
    private readonly ConcurrentDictionary<PeerId, byte> _excluded = new();
    private readonly ConcurrentDictionary<PeerId, long> _lastAttemptAt = new();
    private readonly ConcurrentDictionary<PeerId, long> _observedAt = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _reexploreAfter;
    private int _next;

    public NodeChooser(PoIPClientOptions options, ReputationBook reputation)
    {
        _policy = options.Selection;
        _time = options.TimeProvider;
        _reexploreAfter = options.ReexploreAfter;
        _stakes = new StakeCache(options.Stakes, options.TimeProvider, options.StakeCacheDuration);
        _reputation = reputation;
        int seed = options.SelectionSeed ?? BitConverter.ToInt32(options.Key.PeerId.Bytes[^4..]);
        _selector = new NodeSelector(seed, options.SelectionWeights);
    }

    /// <summary>A per-request cursor: round robin starts at the next node for each request.</summary>
    public int StartRequest() => Interlocked.Increment(ref _next);

    /// <summary>
    /// The node for the next attempt of a request, or null when every node was tried or none is eligible. A node
    /// whose directory listing says its known-answer test failed is never chosen; an advertised price per token
    /// prices the candidate at <paramref name="maxTokens"/> tokens (else at the cap), and a node that would cost more
    /// than the cap is never chosen; unexplored nodes are tried fastest advertised first.
    /// </summary>
    public async Task<Multiaddr?> ChooseAsync(IReadOnlyList<NodeListing> nodes, int start, IReadOnlySet<PeerId> tried, TokenAmount priceCap, int maxTokens, CancellationToken cancellationToken)
    {
        var remaining = new List<NodeListing>(nodes.Count);
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[(start + i) % nodes.Count];
            if (!tried.Contains(node.Address.PeerId!.Value) && !_excluded.ContainsKey(node.Address.PeerId!.Value) && node.KnownAnswerPassed != false && Quote(node, priceCap, maxTokens) <= priceCap)
            {
                remaining.Add(node);
            }
        }

        if (remaining.Count == 0 || _policy == NodeSelectionPolicy.RoundRobin)
        {
            return remaining.Count == 0 ? null : remaining[0].Address;
        }

        // Exploration: a node this client never tried gets one request before the competition judges it.
        var unexplored = remaining.Where(n => !_attempted.ContainsKey(n.Address.PeerId!.Value)).OrderByDescending(n => n.TokensPerSecond ?? 0).FirstOrDefault();
        if (unexplored is not null)
        {
            return unexplored.Address;
        }

        // A node tried but never measured (it failed) counts as the slowest known one.
        double slowest = _latencyTicks.IsEmpty ? 0 : _latencyTicks.Values.Max();
        var candidates = new List<NodeCandidate>(remaining.Count);
        foreach (var node in remaining)
        {
            var id = node.Address.PeerId!.Value;
            var stake = await _stakes.GetAsync(id, cancellationToken).ConfigureAwait(false);
            var latency = TimeSpan.FromTicks((long)(_latencyTicks.TryGetValue(id, out double ticks) ? ticks : slowest));
            var reputation = _reputation.Get(id);
            candidates.Add(new NodeCandidate(id, Quote(node, priceCap, maxTokens), latency, stake.Bonded, reputation.Score) { Offences = reputation.Offences });
        }

        // Re-exploration: an eligible node left without requests for a while gets one (claimed by one chooser at a
        // time), so an old measure is renewed: the power of two choices below never picks the worst candidate.
        if (_reexploreAfter > TimeSpan.Zero)
        {
            foreach (var candidate in _selector.Eligible(candidates, priceCap))
            {
                if (_lastAttemptAt.TryGetValue(candidate.Node, out long at) && _time.GetElapsedTime(at) >= _reexploreAfter && _lastAttemptAt.TryUpdate(candidate.Node, _time.GetTimestamp(), at))
                {
                    return remaining.First(n => n.Address.PeerId!.Value == candidate.Node).Address;
                }
            }
        }

        NodeCandidate? chosen;
        lock (_selectorLock)
        {
            chosen = _selector.Select(candidates, priceCap);
        }

        return chosen is null ? null : remaining.First(n => n.Address.PeerId!.Value == chosen.Node).Address;
    }

    /// <summary>The most a request can cost at a node: its advertised price per token times the tokens asked for, else the cap.</summary>
    internal static TokenAmount Quote(NodeListing node, TokenAmount priceCap, int maxTokens)
    {
        if (node.PricePerToken is not { } perToken)
        {
            return priceCap;
        }

        UInt128 tokens = (UInt128)Math.Max(0, maxTokens);
        return tokens > 0 && perToken.BaseUnits > UInt128.MaxValue / tokens ? new TokenAmount(UInt128.MaxValue) : new TokenAmount(perToken.BaseUnits * tokens);
    }

    /// <summary>The smoothed time to first token of every measured node.</summary>
    public IReadOnlyDictionary<PeerId, TimeSpan> Latencies => _latencyTicks.ToDictionary(kv => kv.Key, kv => TimeSpan.FromTicks((long)kv.Value));

    /// <summary>Routes around <paramref name="node"/> (it failed a known-answer challenge) until <see cref="Include"/>.</summary>
    public void Exclude(PeerId node) => _excluded.TryAdd(node, 0);

    /// <summary>Routes to <paramref name="node"/> again (a later diagnosis passed).</summary>
    public void Include(PeerId node) => _excluded.TryRemove(node, out _);

    /// <summary>Notes that an attempt went to <paramref name="node"/>.</summary>
    public void Attempted(PeerId node)
    {
        _attempted.TryAdd(node, 0);
        _lastAttemptAt[node] = _time.GetTimestamp();
    }

    /// <summary>Folds a measured time to first token into the node's moving average (replaces an average older than the re-exploration period).</summary>
    public void ObserveLatency(PeerId node, TimeSpan timeToFirstToken)
    {
        long now = _time.GetTimestamp();
        bool stale = _reexploreAfter > TimeSpan.Zero && _observedAt.TryGetValue(node, out long at) && _time.GetElapsedTime(at, now) >= _reexploreAfter;
        _observedAt[node] = now;
        _latencyTicks.AddOrUpdate(
            node,
            timeToFirstToken.Ticks,
            (_, old) => stale ? timeToFirstToken.Ticks : (old * (1 - LatencySmoothing)) + (timeToFirstToken.Ticks * LatencySmoothing));
    }
}
