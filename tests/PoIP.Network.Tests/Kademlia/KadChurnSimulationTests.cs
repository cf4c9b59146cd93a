using System.Text;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using Xunit;

namespace PoIP.Network.Tests.Kademlia;

/// <summary>
/// The bounded slice of the <c>dht</c> benchmark in CI: the same churn simulation (<see cref="KadChurnWorld"/>, the
/// real KadNode code with the real 10-minute upkeep) at a small N for a few simulated hours, asserting the goals'
/// structure (lookups still find their targets within the FIND_NODE budget; records keep at least 14 live holders),
/// on counts only.
/// </summary>
public class KadChurnSimulationTests
{
    [Fact]
    public async Task Churn_ThreeHoursWithTheRealUpkeep_LookupsFindTargetsWithinBudgetAndRecordsKeepHolders()
    {
        var options = KadNetworkTests.Options(o => o.RefreshInterval = TimeSpan.FromMinutes(10));
        var world = KadChurnWorld.Create(100, options, seed: 7);
        var publishers = world.Alive.Take(3).ToList();
        var keys = new List<byte[]>();
        foreach (var p in publishers)
        {
            world.Permanent.Add(p.Self);
            byte[] key = Encoding.ASCII.GetBytes($"/test/churn/{p.Self}");
            keys.Add(key);
            Assert.Equal(20, (await p.PutValueAsync(key, Encoding.ASCII.GetBytes("v1"), CancellationToken.None)).Confirmed);
        }

        int joined = 0;
        for (int step = 0; step < 18; step++)
        {
            joined += await world.StepAsync(CancellationToken.None);
        }

        Assert.True(joined >= 50, $"only {joined} peers left and joined: the churn did not happen");
        var (_, success, calls, _) = await world.LookupsAsync(world.Alive, 60, CancellationToken.None);
        Assert.True(success >= 0.95, $"success {success}");
        Assert.True(calls.Average() <= 25, $"{calls.Average()} FIND_NODE calls per lookup");
        Assert.All(keys, k => Assert.True(world.Holders(k) >= 14, $"{world.Holders(k)} holders"));
    }
}
