using PoIP.Core.Money;

namespace PoIP.Economics.Selection;

/// <summary>
/// Competition between nodes, client side: among eligible candidates (stake ≥ minimum, price ≤ the
/// request's cap) without offences (proven fraud, failed known-answer challenge; those with offences only
/// when no other is eligible), sample two at random and keep the better score (power of two choices). Good
/// nodes win most traffic, the worst eligible node never wins, and load still spreads. Deterministic
/// for a given seed and call sequence. Not thread-safe (one selector per client loop).
/// </summary>
public sealed class NodeSelector
{
    private readonly NodeSelectionOptions _options;
    private readonly Random _random;

    /// <summary>Creates a selector.</summary>
    /// <param name="seed">Seed of the sampling (same seed, same choices).</param>
    /// <param name="options">Weights (defaults when null).</param>
    /// <exception cref="ArgumentOutOfRangeException">Invalid options.</exception>
    public NodeSelector(int seed, NodeSelectionOptions? options = null)
    {
        _options = options ?? new NodeSelectionOptions();
        _options.Validate();
#pragma warning disable CA5394 // Load spreading, not security: reproducibility from a seed is the point.
        _random = new Random(seed);
#pragma warning restore CA5394
    }

    /// <summary>
    /// The candidates <see cref="Select"/> draws from: stake at least the minimum, price within <paramref name="priceCap"/>,
    /// and without offences unless none is.
    /// </summary>
    public IReadOnlyList<NodeCandidate> Eligible(IReadOnlyList<NodeCandidate> candidates, TokenAmount priceCap)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var eligible = candidates.Where(c => c.Stake >= _options.MinimumStake && c.Price <= priceCap && !c.Node.IsEmpty).ToList();
        if (eligible.Exists(c => c.Offences <= 0))
        {
            // Evidence of cheating outranks every score: a caught cheater that is fast and cheap still loses to an
            // honest node however slow, until the ledger slashes it out of eligibility.
            eligible.RemoveAll(c => c.Offences > 0);
        }

        return eligible;
    }

    /// <summary>Picks a node for a request with price cap <paramref name="priceCap"/>, or null when none is eligible.</summary>
    public NodeCandidate? Select(IReadOnlyList<NodeCandidate> candidates, TokenAmount priceCap)
    {
        var eligible = Eligible(candidates, priceCap);
        if (eligible.Count <= 1)
        {
            return eligible.Count == 1 ? eligible[0] : null;
        }

#pragma warning disable CA5394 // See the constructor.
        int first = _random.Next(eligible.Count);
        int second = _random.Next(eligible.Count - 1);
#pragma warning restore CA5394
        if (second >= first)
        {
            second++;
        }

        var context = ScoreContext.Of(eligible);
        double a = Score(eligible[first], context), b = Score(eligible[second], context);
        return a >= b ? eligible[first] : eligible[second];
    }

    /// <summary>The score of <paramref name="candidate"/> among <paramref name="candidates"/> (higher is better; 0 when it has no reputation or stake).</summary>
    public double Score(NodeCandidate candidate, IReadOnlyList<NodeCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(candidates);
        return Score(candidate, ScoreContext.Of(candidates));
    }

    private double Score(NodeCandidate c, ScoreContext context)
    {
        double reputation = Math.Clamp(double.IsFinite(c.Reputation) ? c.Reputation : 0, 0, 1);
        double price = (context.BestPrice + 1) / ((double)c.Price.BaseUnits + 1);
        double latency = (context.BestLatency + 1) / (Math.Max(0, c.Latency.Ticks) + 1d);
        double stake = context.MaxStake <= 0 ? 1 : (double)c.Stake.BaseUnits / context.MaxStake;
        return Math.Pow(reputation, _options.ReputationWeight)
            * Math.Pow(price, _options.PriceWeight)
            * Math.Pow(latency, _options.LatencyWeight)
            * Math.Pow(stake, _options.StakeWeight);
    }

    private readonly record struct ScoreContext(double BestPrice, double BestLatency, double MaxStake)
    {
        public static ScoreContext Of(IReadOnlyList<NodeCandidate> candidates) => candidates.Count == 0
            ? default
            : new(
                candidates.Min(c => (double)c.Price.BaseUnits),
                candidates.Min(c => (double)Math.Max(0, c.Latency.Ticks)),
                candidates.Max(c => (double)c.Stake.BaseUnits));
    }
}
