using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Interop;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Wire;
using PoIP.Network.Tests.Kademlia;
using PoIP.TestUtils;

namespace PoIP.Network.IntegrationTests;

/// <summary>
/// PoIP's kad-dht against @libp2p/kad-dht 16.4.5 on js-libp2p 3.3.11, both directions, on both protocol ids,
/// every message type (js never sends the deprecated PING, so that one is C# → js only), and a mixed network.
/// </summary>
public sealed class KademliaInteropTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private sealed class CsPeer(Ed25519KeyPair key, Libp2pHost host, KademliaDht dht) : IAsyncDisposable
    {
        public Libp2pHost Host { get; } = host;

        public KademliaDht Dht { get; } = dht;

        public PeerId Id => Host.PeerId;

        public Multiaddr Address => Host.ListenAddresses[0];

        public async ValueTask DisposeAsync()
        {
            await Dht.DisposeAsync();
            await Host.DisposeAsync();
            key.Dispose();
        }
    }

    private static async Task<CsPeer> StartCsAsync(string protocol, IEnumerable<string> bootstrap, CancellationToken cancellationToken)
    {
        var key = Ed25519KeyPair.Generate();
        var hostOptions = new Libp2pHostOptions { Key = key };
        hostOptions.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        var host = Libp2pHost.Create(hostOptions);
        await host.StartAsync(cancellationToken);
        var options = new KademliaOptions { ProtocolId = protocol, RefreshInterval = TimeSpan.Zero };
        options.Namespaces.Add(new VersionNamespace());
        foreach (var b in bootstrap)
        {
            options.BootstrapPeers.Add(Multiaddr.Parse(b));
        }

        var dht = KademliaDht.Create(host, options);
        await dht.StartAsync(cancellationToken);
        return new CsPeer(key, host, dht);
    }

    private static Task<JsPeer> StartJsAsync(string protocol, CancellationToken cancellationToken) =>
        JsPeer.StartScriptAsync(RepositoryPaths.Root, "kad.mjs", "--protocol " + protocol, cancellationToken);

    private static byte[] Cid(string seed) => [0x12, 0x20, .. SHA256.HashData(Encoding.ASCII.GetBytes(seed))];

    private static async Task<T> PollAsync<T>(Func<T> read, Func<T, bool> done, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var value = read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Theory]
    [InlineData("/poip/kad/1.0.0")]
    [InlineData("/ipfs/kad/1.0.0")]
    public async Task JsAgainstCSharp_EveryMessageType_Works(string protocol)
    {
        using var cts = new CancellationTokenSource(Limit);
        await using var cs = await StartCsAsync(protocol, [], cts.Token);
        await using var js = await StartJsAsync(protocol, cts.Token);
        await js.CommandAsync("dial " + cs.Address, cts.Token);
        await js.CommandAsync("waittable 1", cts.Token);

        // PUT_VALUE js → C#: stored by C# after validation, echoed so js counts it.
        var put = await js.CommandAsync("put /test/k1 v3", cts.Token);
        Assert.Equal(1, put.GetProperty("confirmed").GetInt32());
        var now = TimeProvider.System.GetUtcNow();
        Assert.Equal("v3", Encoding.UTF8.GetString(cs.Dht.Node.Store.GetValue(Utf8("/test/k1"), now)!.Value));

        // GET_VALUE js → C#: the value only C# holds.
        cs.Dht.Node.Store.PutValue(new StoredValue(Utf8("/test/k2"), Utf8("v8"), cs.Id, now));
        var got = await js.CommandAsync("get /test/k2", cts.Token);
        var values = got.GetProperty("values").EnumerateArray().Select(v => (v.GetProperty("from").GetString(), v.GetProperty("value").GetString())).ToList();
        Assert.Contains((cs.Id.ToString(), "v8"), values);

        // ADD_PROVIDER js → C#: C# stores js as a provider with its addresses.
        byte[] cid = Cid("js-provides-" + protocol);
        await js.CommandAsync("provide " + Hex(cid), cts.Token);
        // ADD_PROVIDER has no reply: js is done once it has written it, so wait (bounded) for C# to have read it.
        var stored = Assert.Single(await PollAsync(() => cs.Dht.Node.Store.GetProviders(cid, TimeProvider.System.GetUtcNow(), 10), l => l.Count > 0, cts.Token));
        Assert.Equal(js.PeerId, stored.Provider.ToString());
        Assert.NotEmpty(stored.Addresses);

        // GET_PROVIDERS js → C#.
        byte[] cid2 = Cid("cs-provides-" + protocol);
        cs.Dht.Node.Store.AddProvider(new StoredProvider(cid2, cs.Id, [cs.Address.WithoutPeerId()], TimeProvider.System.GetUtcNow()));
        var providers = await js.CommandAsync("providers " + Hex(cid2), cts.Token);
        Assert.Contains(providers.GetProperty("providers").EnumerateArray(), p => p.GetProperty("id").GetString() == cs.Id.ToString());

        // FIND_NODE js → C#: a lookup that has to ask C#.
        var closest = await js.CommandAsync("closest " + Hex(Utf8("some key")), cts.Token);
        Assert.Contains(closest.GetProperty("peers").EnumerateArray(), p => p.GetProperty("id").GetString() == cs.Id.ToString());
    }

    [Theory]
    [InlineData("/poip/kad/1.0.0")]
    [InlineData("/ipfs/kad/1.0.0")]
    public async Task CSharpAgainstJs_EveryMessageType_Works(string protocol)
    {
        using var cts = new CancellationTokenSource(Limit);
        await using var js = await StartJsAsync(protocol, cts.Token);
        // FIND_NODE C# → js: bootstrap admits js only once it answers one.
        await using var cs = await StartCsAsync(protocol, [js.Address], cts.Token);
        Assert.Equal(1, cs.Dht.BootstrapPeersAnswered);
        Assert.Equal(1, cs.Dht.RoutingTableSize);
        await js.CommandAsync("waittable 1", cts.Token);
        var jsId = PeerId.Parse(js.PeerId);

        // PUT_VALUE C# → js: js validates, stores and echoes; the echo is checked.
        var put = await cs.Dht.PutValueAsync(Utf8("/test/c1"), Utf8("v5"), cts.Token);
        Assert.Equal(new DhtPutResult(1, 1, true), put);
        var back = await js.CommandAsync("get /test/c1", cts.Token);
        Assert.Contains(back.GetProperty("values").EnumerateArray(), v => v.GetProperty("value").GetString() == "v5");

        // GET_VALUE C# → js.
        await js.CommandAsync("put /test/c2 v6", cts.Token);
        var values = await cs.Dht.GetValuesAsync(Utf8("/test/c2"), cts.Token);
        Assert.Contains(jsId, Assert.Single(values).From);

        // ADD_PROVIDER C# → js (no reply), then js serves it to js's own query.
        byte[] cid = Cid("cs-" + protocol);
        Assert.Equal(1, await cs.Dht.ProvideAsync(cid, cts.Token));
        var providers = await js.CommandAsync("providers " + Hex(cid), cts.Token);
        var entry = Assert.Single(providers.GetProperty("providers").EnumerateArray(), p => p.GetProperty("id").GetString() == cs.Id.ToString());
        Assert.Contains(entry.GetProperty("addrs").EnumerateArray(), a => a.GetString() == cs.Address.WithoutPeerId().ToString());

        // GET_PROVIDERS C# → js.
        byte[] cid2 = Cid("js-" + protocol);
        await js.CommandAsync("provide " + Hex(cid2), cts.Token);
        var found = await cs.Dht.FindProvidersAsync(cid2, 10, cts.Token);
        Assert.Contains(found, p => p.Peer == jsId && p.Addresses.Count > 0);

        // PING C# → js (deprecated, still answered by js).
        var pong = await cs.Dht.Node.RequestAsync(new KadPeer(jsId, []), new Message { Type = Message.Types.MessageType.Ping }, expectReply: true, cts.Token);
        Assert.Equal(Message.Types.MessageType.Ping, pong!.Type);
    }

    [Fact]
    public async Task MixedNetwork_ThreeJsThreeCSharp_EachFindsEveryOthersProvidersAndPeers()
    {
        const string protocol = "/poip/kad/1.0.0";
        using var cts = new CancellationTokenSource(Limit);
        var cs = new List<CsPeer>();
        var js = new List<JsPeer>();
        try
        {
            cs.Add(await StartCsAsync(protocol, [], cts.Token));
            string first = cs[0].Address.ToString();
            for (int i = 0; i < 3; i++)
            {
                var j = await StartJsAsync(protocol, cts.Token);
                js.Add(j);
                await j.CommandAsync("dial " + first, cts.Token);
                await j.CommandAsync("waittable 1", cts.Token);
            }

            cs.Add(await StartCsAsync(protocol, [first, js[0].Address], cts.Token));
            cs.Add(await StartCsAsync(protocol, [js[1].Address], cts.Token));
            foreach (var c in cs)
            {
                await c.Dht.RefreshAsync(cts.Token);
            }

            var ids = cs.Select(c => c.Id.ToString()).Concat(js.Select(j => j.PeerId)).ToList();
            string CidOf(string id) => Hex(Cid("provider-" + id));
            foreach (var c in cs)
            {
                Assert.True(await c.Dht.ProvideAsync(Cid("provider-" + c.Id), cts.Token) > 0);
            }

            foreach (var j in js)
            {
                await j.CommandAsync("provide " + CidOf(j.PeerId), cts.Token);
            }

            var misses = new List<string>();
            foreach (var c in cs)
            {
                foreach (var other in ids.Where(id => id != c.Id.ToString()))
                {
                    var providers = await c.Dht.FindProvidersAsync(Convert.FromHexString(CidOf(other)), 10, cts.Token);
                    if (!providers.Any(p => p.Peer.ToString() == other && p.Addresses.Count > 0))
                    {
                        misses.Add($"C# {c.Id} found no provider {other}");
                    }

                    var peer = await c.Dht.FindPeerAsync(PeerId.Parse(other), cts.Token);
                    if (peer is null || peer.Addresses.Count == 0)
                    {
                        misses.Add($"C# {c.Id} did not find peer {other}");
                    }
                }
            }

            foreach (var j in js)
            {
                foreach (var other in ids.Where(id => id != j.PeerId))
                {
                    var providers = await j.CommandAsync("providers " + CidOf(other), cts.Token);
                    if (!providers.GetProperty("providers").EnumerateArray().Any(p => p.GetProperty("id").GetString() == other))
                    {
                        misses.Add($"js {j.PeerId} found no provider {other}");
                    }

                    var peer = await j.CommandAsync("findpeer " + other, cts.Token);
                    if (peer.GetProperty("peer").ValueKind != JsonValueKind.Object)
                    {
                        misses.Add($"js {j.PeerId} did not find peer {other}");
                    }
                }
            }

            Assert.Empty(misses);
        }
        finally
        {
            foreach (var c in cs)
            {
                await c.DisposeAsync();
            }

            foreach (var j in js)
            {
                await j.DisposeAsync();
            }
        }
    }
}
