using System.Security.Cryptography;
using System.Text.Json;
using PoIP.Core.Identity;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.TestUtils;

namespace PoIP.Node.Tests;

/// <summary><c>poip dht ...</c> against real DHT peers on loopback.</summary>
public sealed class DhtCommandTests
{
    private static async Task<(Ed25519KeyPair Key, Libp2pHost Host, KademliaDht Dht)> StartPeerAsync(params Multiaddr[] bootstrap)
    {
        var key = Ed25519KeyPair.Generate();
        var options = new Libp2pHostOptions { Key = key };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        var host = Libp2pHost.Create(options);
        await host.StartAsync();
        var dhtOptions = new KademliaOptions();
        foreach (var b in bootstrap)
        {
            dhtOptions.BootstrapPeers.Add(b);
        }

        var dht = KademliaDht.Create(host, dhtOptions);
        await dht.StartAsync();
        return (key, host, dht);
    }

    private static async Task StopAsync((Ed25519KeyPair Key, Libp2pHost Host, KademliaDht Dht) peer)
    {
        await peer.Dht.DisposeAsync();
        await peer.Host.DisposeAsync();
        peer.Key.Dispose();
    }

    [Fact]
    public async Task ProvidersAndFindPeer_WithOnlyABootstrapAddress_FindTheProvider()
    {
        var server = await StartPeerAsync();
        var provider = await StartPeerAsync(server.Host.ListenAddresses[0]);
        try
        {
            byte[] modelId = SHA256.HashData("model"u8);
            Assert.Equal(1, await provider.Dht.ProvideAsync(new byte[] { 0x12, 0x20 }.Concat(modelId).ToArray()));
            string bootstrap = server.Host.ListenAddresses[0].ToString();

            var providers = await ConsoleRun.RunAsync("dht", "providers", Convert.ToHexStringLower(modelId), "--bootstrap", bootstrap, "--json");
            Assert.Equal(0, providers.ExitCode);
            var json = JsonDocument.Parse(providers.Out).RootElement;
            Assert.Equal("1220" + Convert.ToHexStringLower(modelId), json.GetProperty("key").GetString());
            var entry = Assert.Single(json.GetProperty("providers").EnumerateArray());
            Assert.Equal(provider.Host.PeerId.ToString(), entry.GetProperty("peer").GetString());
            Assert.Equal(provider.Host.ListenAddresses[0].WithoutPeerId().ToString(), entry.GetProperty("addresses")[0].GetString());

            var found = await ConsoleRun.RunAsync("dht", "find-peer", provider.Host.PeerId.ToString(), "--bootstrap", bootstrap, "--json");
            Assert.Equal(0, found.ExitCode);
            var peer = JsonDocument.Parse(found.Out).RootElement;
            Assert.True(peer.GetProperty("found").GetBoolean());

            using var unknown = Ed25519KeyPair.Generate();
            var missing = await ConsoleRun.RunAsync("dht", "find-peer", unknown.PeerId.ToString(), "--bootstrap", bootstrap);
            Assert.Equal(1, missing.ExitCode);
            StrictConsoleTests.AssertClean(Assert.Single(missing.ErrorLines));
        }
        finally
        {
            await StopAsync(provider);
            await StopAsync(server);
        }
    }

    [Theory]
    [InlineData("providers", "zz", "--bootstrap", "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK")]
    [InlineData("providers", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "--bootstrap", "/ip4/127.0.0.1/tcp/1")]
    [InlineData("provide", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "--protocol", "/x/1.0.0")]
    [InlineData("find-peer", "not-a-peer", "--bootstrap", "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK")]
    [InlineData("serve", "--protocol", "no-slash")]
    public async Task Dht_BadInput_ExitsTwoWithOneCleanLine(params string[] args)
    {
        var result = await ConsoleRun.RunAsync(["dht", .. args]);
        Assert.Equal(2, result.ExitCode);
        StrictConsoleTests.AssertClean(Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task Serve_PrintsItsFullMultiaddrFirst_AndAnswersAsABootstrapPeer()
    {
        using var serve = PoipCli.Start("dht", "serve");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string first = await serve.StandardOutput.ReadLineAsync(cts.Token) ?? string.Empty;
            var address = Multiaddr.Parse(first);
            Assert.NotNull(address.PeerId);

            var client = await StartPeerAsync(address);
            try
            {
                Assert.Equal(1, client.Dht.BootstrapPeersAnswered);
            }
            finally
            {
                await StopAsync(client);
            }
        }
        finally
        {
            serve.Kill(entireProcessTree: true);
            await serve.WaitForExitAsync(CancellationToken.None);
        }
    }
}
