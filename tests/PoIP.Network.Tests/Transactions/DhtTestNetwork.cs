using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Identity;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;
using PoIP.TestUtils;
using PoIP.TestUtils.Dht;

namespace PoIP.Network.Tests.Transactions;

/// <summary>A few DHT server peers with the poip namespace, on a fake clock at <see cref="SampleMessages.Now"/>.</summary>
internal sealed class DhtTestNetwork
{
    public DhtTestNetwork(int peers, int k = 20)
    {
        Network = new InMemoryDhtNetwork(Clock, k);
        for (int i = 0; i < peers; i++)
        {
            var options = new KademliaOptions();
            options.Namespaces.Add(new PoIPRecordNamespace());
            Peers.Add(Network.Join(Ed25519KeyPair.Generate().PeerId, options));
        }
    }

    public FakeTimeProvider Clock { get; } = new(SampleMessages.Now);

    public InMemoryDhtNetwork Network { get; }

    public List<InMemoryDhtNetwork.Peer> Peers { get; } = [];

    public DhtTransactionLedger Ledger(int peer, int quorum = 1) => new(Peers[peer], new DhtTransactionLedgerOptions { Quorum = quorum, TimeProvider = Clock });
}
