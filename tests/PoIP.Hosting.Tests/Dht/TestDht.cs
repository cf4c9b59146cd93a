using PoIP.Network;
using PoIP.Network.Kademlia;
using PoIP.TestUtils.Dht;

namespace PoIP.Hosting.Tests.Dht;

/// <summary>
/// The DHT the tests' hosts join. Today the in-memory fake (every host of one test joins <paramref name="network"/>);
/// to run the same tests on the real Kademlia over loopback libp2p, make <see cref="Create"/> return null
/// (<c>AddDht</c> then uses <c>KademliaDht.Create</c> + <c>StartAsync</c>, and the bootstrap addresses the tests
/// pass are dialled). That is the one line to change.
/// </summary>
internal static class TestDht
{
    public static Func<Libp2pHost, KademliaOptions, CancellationToken, ValueTask<IKademliaDht>>? Create(InMemoryDhtNetwork network) =>
        null; // the real KademliaDht over loopback libp2p (the in-memory fake: (host, options, _) => ValueTask.FromResult<IKademliaDht>(network.Join(host, options)))
}
