using PoIP.Core.Identity;
using PoIP.Hosting.Client;
using PoIP.Network;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.Tests.Client;

/// <summary>The client's per-node circuit breaker under concurrent first use.</summary>
public sealed class ClientBreakerTests
{
    /// <summary>
    /// Regression: concurrent first requests to one node built its breaker on several threads (ConcurrentDictionary's
    /// GetOrAdd may run the factory more than once), and the second build attached the node's shared
    /// CircuitBreakerStateProvider to another breaker: Polly threw, and the gateway answered HTTP 500 "This instance
    /// of 'CircuitBreakerStateProvider' is already initialized …" (found by 8 concurrent users on a fresh gateway).
    /// </summary>
    [Fact]
    public async Task BreakerOf_ConcurrentFirstUse_OneBreakerPerNodeAndNoneThrows()
    {
        var key = Ed25519KeyPair.Generate();
        await using var host = Libp2pHost.Create(new Libp2pHostOptions { Key = key, IdentifyOnConnect = false });
        var someNode = Multiaddr.Parse("/ip4/127.0.0.1/tcp/1").WithPeerId(Ed25519KeyPair.Generate().PeerId);
        var client = new PoIPClient(new PoIPClientOptions { Key = key, Host = host, Stakes = StakeCacheTests.CountingStakes.Create(), Nodes = [someNode] });
        const int Threads = 4;
        for (int round = 0; round < 300; round++)
        {
            var node = Ed25519KeyPair.Generate().PeerId;
            var breakers = new Polly.ResiliencePipeline?[Threads];
            var failures = new Exception?[Threads];
            using var start = new Barrier(Threads);
            var threads = Enumerable.Range(0, Threads).Select(i => new Thread(() =>
            {
                start.SignalAndWait(); // all ask for the node's breaker at the same moment
                try
                {
                    breakers[i] = client.BreakerOf(node);
                }
                catch (Exception ex)
                {
                    failures[i] = ex;
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            Assert.All(failures, f => Assert.Null(f));
            Assert.All(breakers, b => Assert.Same(breakers[0], b));
        }

        Assert.False(client.IsBroken(someNode.PeerId!.Value)); // never used: no breaker, closed
    }
}
