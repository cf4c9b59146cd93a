using PoIP.Core.Money;

namespace PoIP.Economics.Selection;

/// <summary>
/// Weights of the node score <c>rep^wr · (bestPrice/price)^wp · (bestLatency/latency)^wl · (stake/maxStake)^ws</c>
/// and the eligibility floor.
/// </summary>
public sealed class NodeSelectionOptions
{
    /// <summary>Exponent of the reputation factor (default 2).</summary>
    public double ReputationWeight { get; set; } = 2;

    /// <summary>Exponent of the price factor (default 1).</summary>
    public double PriceWeight { get; set; } = 1;

    /// <summary>Exponent of the latency factor (default 1).</summary>
    public double LatencyWeight { get; set; } = 1;

    /// <summary>Exponent of the stake factor (default 0.5: stake matters, with diminishing returns).</summary>
    public double StakeWeight { get; set; } = 0.5;

    /// <summary>Candidates with less bonded stake are never chosen (default zero; set it to the network's minimum stake).</summary>
    public TokenAmount MinimumStake { get; set; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A weight is negative or not finite.</exception>
    public void Validate()
    {
        foreach (double weight in new[] { ReputationWeight, PriceWeight, LatencyWeight, StakeWeight })
        {
            if (!double.IsFinite(weight) || weight < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(NodeSelectionOptions), "weights must be finite and non-negative.");
            }
        }
    }
}
