using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Wire;
using PoIP.Network.Protocols;
using Xunit;

namespace PoIP.Network.Tests.Kademlia;

/// <summary>C# DHT peers on real libp2p hosts over loopback TCP.</summary>
public sealed class KademliaLoopbackTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    internal sealed class Peer(Ed25519KeyPair key, Libp2pHost host, KademliaDht dht) : IAsyncDisposable
    {
        public Libp2pHost Host { get; } = host;

        public KademliaDht Dht { get; } = dht;

        public Multiaddr Address => Host.ListenAddresses[0];

        public async ValueTask DisposeAsync()
        {
            await Dht.DisposeAsync();
            await Host.DisposeAsync();
            key.Dispose();
        }
    }

    internal static async Task<Peer> StartAsync(string protocol, IEnumerable<Multiaddr> bootstrap, Action<KademliaOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var key = Ed25519KeyPair.Generate();
        var host = await HostTests.StartHostAsync(key);
        var options = KadNetworkTests.Options(o =>
        {
            o.ProtocolId = protocol;
            configure?.Invoke(o);
        });
        foreach (var b in bootstrap)
        {
            options.BootstrapPeers.Add(b);
        }

        var dht = KademliaDht.Create(host, options);
        await dht.StartAsync(cancellationToken);
        return new Peer(key, host, dht);
    }

    private static byte[] ModelKey(string seed) => [0x12, 0x20, .. SHA256.HashData(Encoding.ASCII.GetBytes(seed))];

    [Theory]
    [InlineData("/poip/kad/1.0.0")]
    [InlineData("/ipfs/kad/1.0.0")]
    public async Task FivePeers_EveryOperation_WorksOverLibp2p(string protocol)
    {
        using var cts = new CancellationTokenSource(Limit);
        var peers = new List<Peer>();
        try
        {
            peers.Add(await StartAsync(protocol, [], cancellationToken: cts.Token));
            for (int i = 1; i < 5; i++)
            {
                peers.Add(await StartAsync(protocol, [peers[0].Address], cancellationToken: cts.Token));
                Assert.Equal(1, peers[i].Dht.BootstrapPeersAnswered);
            }

            Assert.Contains(protocol, peers[0].Host.Protocols);
            foreach (var p in peers)
            {
                await p.Dht.RefreshAsync(cts.Token);
            }

            var put = await peers[1].Dht.PutValueAsync(Encoding.ASCII.GetBytes("/test/x"), Encoding.ASCII.GetBytes("v4"), cts.Token);
            Assert.Equal(4, put.Asked);
            Assert.Equal(4, put.Confirmed);
            var values = await peers[4].Dht.GetValuesAsync(Encoding.ASCII.GetBytes("/test/x"), cts.Token);
            Assert.Equal("v4", Encoding.ASCII.GetString(Assert.Single(values).Value.Span));

            Assert.True(await peers[2].Dht.ProvideAsync(ModelKey("m"), cts.Token) >= 3);
            var providers = await peers[3].Dht.FindProvidersAsync(ModelKey("m"), 5, cts.Token);
            var provider = Assert.Single(providers);
            Assert.Equal(peers[2].Host.PeerId, provider.Peer);
            Assert.Contains(peers[2].Address.WithoutPeerId(), provider.Addresses);

            var found = await peers[4].Dht.FindPeerAsync(peers[3].Host.PeerId, cts.Token);
            Assert.NotNull(found);
            Assert.Contains(peers[3].Address.WithoutPeerId(), found.Addresses);
        }
        finally
        {
            foreach (var p in peers)
            {
                await p.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ClientMode_IdentifyOmitsProtocol_AndNeverEntersTables()
    {
        using var cts = new CancellationTokenSource(Limit);
        await using var server = await StartAsync("/poip/kad/1.0.0", [], cancellationToken: cts.Token);
        await using var client = await StartAsync("/poip/kad/1.0.0", [server.Address], o => o.Mode = DhtMode.Client, cts.Token);
        Assert.DoesNotContain("/poip/kad/1.0.0", client.Host.Protocols);
        Assert.Equal(1, client.Dht.RoutingTableSize);
        var info = await server.Host.FindConnection(client.Host.PeerId)!.Identified.WaitAsync(cts.Token);
        Assert.DoesNotContain("/poip/kad/1.0.0", info.Protocols);
        await client.Dht.PutValueAsync(Encoding.ASCII.GetBytes("/test/c"), Encoding.ASCII.GetBytes("v1"), cts.Token);
        Assert.Equal(0, server.Dht.RoutingTableSize);
    }

    [Fact]
    public async Task OneInboundStream_SeveralRequests_AllAnswered()
    {
        using var cts = new CancellationTokenSource(Limit);
        await using var server = await StartAsync("/poip/kad/1.0.0", [], cancellationToken: cts.Token);
        using var key = Ed25519KeyPair.Generate();
        await using var raw = await HostTests.StartHostAsync(key);
        var stream = await raw.OpenStreamAsync(server.Address, "/poip/kad/1.0.0", cts.Token);
        await using (stream)
        {
            for (int i = 0; i < 3; i++)
            {
                await stream.WriteAsync(Convert.FromHexString("020805"), cts.Token); // PING
                var reply = await LengthPrefixedFrames.ReadAsync(stream, 1024, cts.Token);
                Assert.Equal(Message.Types.MessageType.Ping, Message.Parser.ParseFrom(reply).Type);
            }

            var find = new Message { Type = Message.Types.MessageType.FindNode, Key = ByteString.CopyFrom(server.Host.PeerId.Bytes) };
            await stream.WriteAsync(KadCodec.EncodeFrame(find), cts.Token);
            var found = Message.Parser.ParseFrom(await LengthPrefixedFrames.ReadAsync(stream, 1 << 20, cts.Token));
            Assert.Equal(server.Host.PeerId.ToArray(), found.CloserPeers[0].Id.ToByteArray());
        }
    }

    [Fact]
    public async Task OversizedFrame_IsRefusedCountedAndThePeerDisconnected()
    {
        using var cts = new CancellationTokenSource(Limit);
        await using var server = await StartAsync("/poip/kad/1.0.0", [], o => (o.MaxMessageSize, o.MaxValueSize) = (4096, 1024), cts.Token);
        using var key = Ed25519KeyPair.Generate();
        await using var raw = await HostTests.StartHostAsync(key);
        var stream = await raw.OpenStreamAsync(server.Address, "/poip/kad/1.0.0", cts.Token);
        var connection = stream.Connection!;
        await stream.WriteAsync(new byte[] { 0x80, 0x80, 0x04 }, cts.Token); // a 64 KiB length prefix
        try
        {
            await connection.Completion.WaitAsync(cts.Token);
        }
        catch (Libp2pException)
        {
            // lost rather than closed: either way it ended
        }

        Assert.True(connection.IsClosed);
        Assert.True(server.Dht.RefusedCount >= 1);
    }
}
