using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Hosting.Client;
using PoIP.Network;
using PoIP.Network.Addressing;

namespace PoIP.Gateway.Tests;

/// <summary>A client of its own (key, libp2p host, <see cref="PoIPClient"/>) on the fixture's ledger, for tests that need other settings.</summary>
internal sealed record OwnedClient(Ed25519KeyPair Key, Libp2pHost Host, PoIPClient Client) : IAsyncDisposable
{
    public static async Task<OwnedClient> StartAsync(GatewayFixture fixture, INodeDirectory directory, bool fund = false, IReadOnlyList<Multiaddr>? validators = null, TimeSpan? auditTimeout = null, TimeProvider? time = null, TimeSpan? hedgeAfter = null, NodeSelectionPolicy selection = NodeSelectionPolicy.Competition, bool hedging = false, int auditRetries = 5, TimeSpan? auditRetryDelay = null)
    {
        var key = Ed25519KeyPair.Generate();
        if (fund)
        {
            var ledger = (EmbeddedStakeManager)fixture.Network.Ledger;
            Assert.True((await ledger.CreateAccountAsync(OperationId.New(), key.PeerId)).IsApplied);
            Assert.True((await ledger.DepositAsync(OperationId.New(), key.PeerId, TokenAmount.FromTokens(10))).IsApplied);
        }

        var options = new Libp2pHostOptions { Key = key };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        var host = Libp2pHost.Create(options);
        await host.StartAsync();
        return new OwnedClient(key, host, new PoIPClient(new PoIPClientOptions
        {
            Key = key,
            Host = host,
            Stakes = fixture.Network.Ledger,
            Directory = directory,
            Validators = validators ?? [],
            AttemptTimeout = TimeSpan.FromSeconds(30),
            AuditTimeout = auditTimeout ?? TimeSpan.FromMinutes(2),
            TimeProvider = time ?? TimeProvider.System,
            Hedging = hedging || hedgeAfter is not null, // off unless a test asks: a hedge on the real clock would make other tests' attempts vary
            HedgeAfter = hedgeAfter,
            AuditRetries = auditRetries,
            AuditRetryDelay = auditRetryDelay ?? TimeSpan.FromSeconds(10),
            Selection = selection,
        }));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Key.Dispose();
    }
}
