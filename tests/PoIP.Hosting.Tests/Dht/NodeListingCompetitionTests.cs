using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded;
using PoIP.Hosting.Client;
using PoIP.Hosting.DependencyInjection;
using PoIP.Network;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.Tests.Dht;

/// <summary>What a directory advertises (the DHT's capability records) reaches the client's choice of node.</summary>
public sealed class NodeListingCompetitionTests : IDisposable
{
    private readonly HostingFixture _fixture = new();

    [Theory]
    [InlineData(NodeSelectionPolicy.Competition)]
    [InlineData(NodeSelectionPolicy.RoundRobin)]
    public async Task AskAsync_ListingsWithFailedKnownAnswerOrPriceOverCap_NeverTried(NodeSelectionPolicy policy)
    {
        using var node = _fixture.Build("node-" + policy, poip =>
        {
            HostingFixture.Llama(poip, HostingFixture.Stories);
            poip.AddDevFunding(o => o.Stake = TokenAmount.FromTokens(150)).AddNode(o => o.MaxOutputTokens = 64);
        });
        await node.StartAsync();
        var good = node.Services.GetRequiredService<PoIPRuntime>().ListenAddresses[0];

        using var key = Ed25519KeyPair.Generate();
        var hostOptions = new Libp2pHostOptions { Key = key };
        await using var host = Libp2pHost.Create(hostOptions);
        await host.StartAsync();
        using var stakes = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = _fixture.LedgerPath, SynchronousFull = false });
        Assert.True((await stakes.DepositAsync(OperationId.New(), key.PeerId, TokenAmount.FromTokens(10))).IsApplied);

        // two listings that point nowhere: were either tried, the answer would need a second attempt
        var failedTest = new NodeListing(Unreachable(), KnownAnswerPassed: false);
        var tooDear = new NodeListing(Unreachable(), PricePerToken: TokenAmount.FromTokens(1), TokensPerSecond: 1_000);
        var client = new PoIPClient(new PoIPClientOptions
        {
            Key = key,
            Host = host,
            Stakes = stakes,
            Selection = policy,
            Directory = new FixedDirectory([failedTest, new NodeListing(good, TokenAmount.ParseTokens("0.0001")), tooDear]),
        });
        var model = await ModelId.FromFileAsync(HostingFixture.Stories);
        for (int i = 0; i < 3; i++)
        {
            var answer = await client.AskAsync("Once upon a time", new AskOptions(model, new SamplingParameters(), (ulong)i, 8, TokenAmount.ParseTokens("0.008")));
            Assert.Equal(good.PeerId, answer.Node);
            Assert.Equal(1, answer.Attempts);
            Assert.Empty(answer.FailedAttempts);
        }

        Assert.Equal(3, client.OpenedEscrows.Count); // no escrow opened towards the listings left out
        await node.StopAsync();
    }

    public void Dispose() => _fixture.Dispose();

    private static Multiaddr Unreachable()
    {
        using var nobody = Ed25519KeyPair.Generate();
        return Multiaddr.Parse("/ip4/127.0.0.1/tcp/1").WithPeerId(nobody.PeerId);
    }

    private sealed class FixedDirectory(IReadOnlyList<NodeListing> listings) : INodeDirectory
    {
        public Task<IReadOnlyList<NodeListing>> FindNodesAsync(ModelId model, CancellationToken cancellationToken = default) => Task.FromResult(listings);
    }
}
