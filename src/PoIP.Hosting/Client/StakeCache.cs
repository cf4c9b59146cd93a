using System.Collections.Concurrent;
using PoIP.Core.Economics;
using PoIP.Core.Identity;

namespace PoIP.Hosting.Client;

/// <summary>
/// The client's recent view of each node's stake: read from the <see cref="IStakeManager"/> at most
/// once per <see cref="PoIPClientOptions.StakeCacheDuration"/> per node, so choosing among N nodes
/// does not cost N ledger reads on every attempt. Stake moves slowly (bonding, unbonding, a slash);
/// a fraud verdict reaches the choice at once through the reputation book instead.
/// </summary>
internal sealed class StakeCache(IStakeManager stakes, TimeProvider time, TimeSpan duration)
{
    private readonly ConcurrentDictionary<PeerId, (StakeInfo Stake, long ReadAt)> _entries = new();

    /// <summary>The node's stake, from the cache while it is fresh.</summary>
    public async ValueTask<StakeInfo> GetAsync(PeerId node, CancellationToken cancellationToken)
    {
        long now = time.GetTimestamp();
        if (duration > TimeSpan.Zero && _entries.TryGetValue(node, out var entry) && time.GetElapsedTime(entry.ReadAt, now) < duration)
        {
            return entry.Stake;
        }

        var stake = await stakes.GetStakeAsync(node, cancellationToken).ConfigureAwait(false);
        _entries[node] = (stake, now);
        return stake;
    }
}
