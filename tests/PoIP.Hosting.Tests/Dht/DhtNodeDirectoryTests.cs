using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;
using PoIP.TestUtils;
using PoIP.TestUtils.Dht;

namespace PoIP.Hosting.Tests.Dht;

public sealed class DhtNodeDirectoryTests
{
    private static readonly ModelId Model = new(Sha256Digest.Compute("model"u8));
    private readonly FakeTimeProvider _clock = new(SampleMessages.Now);
    private readonly InMemoryDhtNetwork _network;
    private readonly InMemoryDhtNetwork.Peer _client;

    public DhtNodeDirectoryTests()
    {
        _network = new InMemoryDhtNetwork(_clock);
        _client = Join(Ed25519KeyPair.Generate().PeerId, DhtMode.Client);
    }

    [Fact]
    public async Task FindNodesAsync_ProviderWithCapability_ListedWithPriceSpeedAndKnownAnswer()
    {
        using var node = Ed25519KeyPair.Generate();
        var dht = await ProvideAsync(node);
        await PutCapabilityAsync(dht, node, node.PeerId, sequence: 1, price: "0.002", tokensPerSecond: 40);
        await PutCapabilityAsync(dht, node, node.PeerId, sequence: 5, price: "0.001", tokensPerSecond: 80);

        var listing = Assert.Single(await Directory().FindNodesAsync(Model));
        Assert.Equal(node.PeerId, listing.Address.PeerId);
        Assert.Equal(TokenAmount.ParseTokens("0.001"), listing.PricePerToken); // the highest sequence
        Assert.Equal(80, listing.TokensPerSecond);
        Assert.True(listing.KnownAnswerPassed);
    }

    [Fact]
    public async Task FindNodesAsync_ProviderWithoutValidCapability_LeftOut()
    {
        using var bare = Ed25519KeyPair.Generate();
        using var otherModel = Ed25519KeyPair.Generate();
        using var expired = Ed25519KeyPair.Generate();
        await ProvideAsync(bare);
        await PutCapabilityAsync(await ProvideAsync(otherModel), otherModel, otherModel.PeerId, model: new ModelId(Sha256Digest.Compute("other"u8)));
        await PutCapabilityAsync(await ProvideAsync(expired), expired, expired.PeerId);
        _clock.Advance(TimeSpan.FromHours(2)); // the capability records were valid for 1 h

        Assert.Empty(await Directory().FindNodesAsync(Model));
        var lenient = await new DhtNodeDirectory(_client, new DhtNodeDirectoryOptions { RequireCapability = false, TimeProvider = _clock }).FindNodesAsync(Model);
        Assert.Equal(3, lenient.Count);
        Assert.All(lenient, l => Assert.Null(l.PricePerToken));
    }

    [Fact]
    public async Task FindNodesAsync_CapabilityNotSignedByTheProvider_NeverReachesTheStore()
    {
        using var node = Ed25519KeyPair.Generate();
        using var impostor = Ed25519KeyPair.Generate();
        var dht = await ProvideAsync(node);
        await Assert.ThrowsAsync<ArgumentException>(() => PutCapabilityAsync(dht, impostor, node.PeerId));
        Assert.Empty(await Directory().FindNodesAsync(Model));
    }

    [Fact]
    public async Task FindNodesAsync_SeveralNodes_ListedInPeerIdOrder_SoRoundRobinIsFair()
    {
        var nodes = Enumerable.Range(0, 5).Select(_ => Ed25519KeyPair.Generate()).ToList();
        try
        {
            foreach (var node in nodes)
            {
                await PutCapabilityAsync(await ProvideAsync(node), node, node.PeerId);
            }

            var listed = (await Directory().FindNodesAsync(Model)).Select(l => l.Address.PeerId!.Value.ToString()).ToList();
            Assert.Equal(nodes.Select(n => n.PeerId.ToString()).Order(StringComparer.Ordinal), listed); // whatever order the DHT answered in
        }
        finally
        {
            nodes.ForEach(n => n.Dispose());
        }
    }

    private DhtNodeDirectory Directory() => new(_client, new DhtNodeDirectoryOptions { TimeProvider = _clock, CacheDuration = TimeSpan.Zero });

    private InMemoryDhtNetwork.Peer Join(PeerId id, DhtMode mode = DhtMode.Server)
    {
        var options = new KademliaOptions { Mode = mode };
        options.Namespaces.Add(new PoIPRecordNamespace());
        return _network.Join(id, options, () => [Multiaddr.Parse("/ip4/127.0.0.1/tcp/4001")]);
    }

    private async Task<InMemoryDhtNetwork.Peer> ProvideAsync(Ed25519KeyPair node)
    {
        var dht = Join(node.PeerId);
        await dht.ProvideAsync(PoIPRecordKeys.Provider(Model));
        return dht;
    }

    private async Task PutCapabilityAsync(InMemoryDhtNetwork.Peer dht, Ed25519KeyPair signer, PeerId node, ulong sequence = 1, string price = "0.001", double tokensPerSecond = 50, ModelId? model = null)
    {
        var record = SignedMessage.Create(signer, new CapabilityRecord
        {
            NodeId = node,
            ModelId = model ?? Model,
            Engine = new EngineIdentity("llama.cpp", "b1", "cpu", "avx2", false, "f16", 512),
            PricePerToken = TokenAmount.ParseTokens(price),
            KnownAnswer = KnownAnswerResult.Passed,
            TokensPerSecond = tokensPerSecond,
            Sequence = sequence,
            IssuedAt = _clock.GetUtcNow(),
            ExpiresAt = _clock.GetUtcNow().AddHours(1),
        });
        await dht.PutValueAsync(PoIPRecordKeys.Capability(node), record.Envelope.Encoded);
    }
}
