using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Selection;

/// <summary>A node a client could send a request to, with what the client knows of it.</summary>
/// <param name="Node">The node.</param>
/// <param name="Price">Its price for the request.</param>
/// <param name="Latency">Its measured latency (e.g. a moving average of time to first token).</param>
/// <param name="Stake">Its bonded stake.</param>
/// <param name="Reputation">Its reputation score in (0, 1) (<see cref="Reputation.ReputationBook"/>).</param>
public sealed record NodeCandidate(PeerId Node, TokenAmount Price, TimeSpan Latency, TokenAmount Stake, double Reputation)
{
    /// <summary>
    /// Proven frauds and failed known-answer challenges on record (<see cref="Reputation.ReputationScore.Offences"/>).
    /// A candidate with any is chosen only when no eligible candidate has none, however fast or cheap it is: a
    /// cheater is routed around as soon as it is caught, not only once slashed below the minimum stake.
    /// </summary>
    public int Offences { get; init; }
}
