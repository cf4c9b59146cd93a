using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Interop;
using PoIP.Network.Tests;
using PoIP.TestUtils;

namespace PoIP.Network.IntegrationTests;

/// <summary>PoIP.Network against js-libp2p 3.3.11 (Noise 17, Yamux 8), both directions.</summary>
public sealed class JsInteropTests
{
    private const string Echo = EchoKit.Echo;
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private static Libp2pHost CreateHost(Ed25519KeyPair key, bool listen)
    {
        var options = new Libp2pHostOptions { Key = key };
        if (listen)
        {
            options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        }

        var host = Libp2pHost.Create(options);
        EchoKit.AddEchoHandler(host);
        return host;
    }

    [Fact]
    public async Task PeerId_FixedSeed_MatchesJs()
    {
        using var cts = new CancellationTokenSource(Limit);
        var seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        using var key = Ed25519KeyPair.FromSeed(seed);
        string js = await JsPeer.RunOnceAsync(RepositoryPaths.Root, "peerid " + Convert.ToHexStringLower(seed), cts.Token);
        Assert.Equal(js, key.PeerId.ToString());
        Assert.StartsWith("12D3KooW", js, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CSharpDialsJs_HandshakeIdentifyPingStreamsBulkClose_AllSucceed()
    {
        using var cts = new CancellationTokenSource(Limit);
        var ct = cts.Token;
        await using var js = await JsPeer.StartAsync(RepositoryPaths.Root, string.Empty, ct);
        using var key = Ed25519KeyPair.Generate();
        await using var host = CreateHost(key, listen: false);
        await host.StartAsync(ct);

        // handshake: the /p2p part of the address must be proven by the js peer
        var connection = await host.DialAsync(Multiaddr.Parse(js.Address), ct);
        Assert.Equal(js.PeerId, connection.RemotePeer.ToString());

        // identify, both ways
        var info = await connection.Identified.WaitAsync(ct);
        Assert.Contains("/ipfs/ping/1.0.0", info.Protocols);
        Assert.Contains("/ipfs/id/1.0.0", info.Protocols);
        Assert.Contains(Echo, info.Protocols);
        Assert.Equal(js.PeerId, info.PublicKey.ToPeerId().ToString());
        var jsView = await js.CommandAsync("identify " + host.PeerId, ct);
        var jsProtocols = jsView.GetProperty("protocols").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains(Echo, jsProtocols);
        Assert.Contains("/perf/1.0.0", jsProtocols);
        Assert.Equal(Convert.ToHexStringLower(key.PublicKey.ToProtobuf()), jsView.GetProperty("publicKey").GetString());

        // ping (libp2p ping protocol) and the muxer's ping
        Assert.True(await connection.PingAsync(ct) >= TimeSpan.Zero);
        Assert.True(await connection.Session.PingAsync(ct) >= TimeSpan.Zero);

        // 100 concurrent streams, each echoed
        await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => EchoKit.EchoOnceAsync(connection, 10_000, ct)));

        // 64 MiB through one stream, checked by hash
        var (sent, received, bytes) = await EchoKit.BulkAsync(connection, 64L << 20, ct);
        Assert.Equal(64L << 20, bytes);
        Assert.Equal(sent, received);

        // clean close: js sees the connection go
        await connection.CloseAsync(ct);
        await connection.Completion.WaitAsync(ct);
        Assert.Empty(host.Connections);
        await js.CommandAsync("waitclosed " + host.PeerId, ct);
    }

    [Fact]
    public async Task JsDialsCSharp_HandshakeIdentifyPingStreamsBulkClose_AllSucceed()
    {
        using var cts = new CancellationTokenSource(Limit);
        var ct = cts.Token;
        await using var js = await JsPeer.StartAsync(RepositoryPaths.Root, string.Empty, ct);
        using var key = Ed25519KeyPair.Generate();
        await using var host = CreateHost(key, listen: true);
        var opened = new TaskCompletionSource<Libp2pConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.ConnectionOpened += (_, e) => opened.TrySetResult(e.Connection);
        await host.StartAsync(ct);
        string address = host.ListenAddresses[0].ToString();

        var dial = await js.CommandAsync("dial " + address, ct);
        Assert.Equal(host.PeerId.ToString(), dial.GetProperty("remotePeer").GetString());
        var connection = await opened.Task.WaitAsync(ct);
        Assert.True(connection.IsInbound);
        Assert.Equal(js.PeerId, connection.RemotePeer.ToString());

        var jsView = await js.CommandAsync("identify " + host.PeerId, ct);
        Assert.Contains(Echo, jsView.GetProperty("protocols").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(Convert.ToHexStringLower(key.PublicKey.ToProtobuf()), jsView.GetProperty("publicKey").GetString());
        var info = await connection.Identified.WaitAsync(ct);
        Assert.Contains("/ipfs/ping/1.0.0", info.Protocols);
        Assert.Equal(js.PeerId, info.Peer.ToString());

        var ping = await js.CommandAsync("ping " + address, ct);
        Assert.True(ping.GetProperty("rtt").GetDouble() >= 0);
        Assert.True(await connection.PingAsync(ct) >= TimeSpan.Zero);

        await js.CommandAsync($"echo {address} 100 10000", ct);

        var bulk = await js.CommandAsync($"bulk {address} {64 << 20}", ct);
        Assert.Equal(64 << 20, bulk.GetProperty("bytes").GetInt64());
        Assert.Equal(bulk.GetProperty("sent").GetString(), bulk.GetProperty("received").GetString());

        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.ConnectionClosed += (_, e) => closed.TrySetResult();
        await js.CommandAsync("hangup " + host.PeerId, ct);
        await closed.Task.WaitAsync(ct);
        Assert.True(connection.IsClosed);
    }

    [Fact]
    public async Task WithoutEarlyMuxerNegotiation_BothDirections_FallBackToMultistreamYamux()
    {
        using var cts = new CancellationTokenSource(Limit);
        var ct = cts.Token;
        await using var js = await JsPeer.StartAsync(RepositoryPaths.Root, string.Empty, ct);
        using var key = Ed25519KeyPair.Generate();
        var options = new Libp2pHostOptions { Key = key, EarlyMuxerNegotiation = false };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        await using var host = Libp2pHost.Create(options);
        await host.StartAsync(ct);

        var outbound = await host.DialAsync(Multiaddr.Parse(js.Address), ct);
        Assert.True(await outbound.PingAsync(ct) >= TimeSpan.Zero);
        Assert.Equal(js.PeerId, (await outbound.Identified.WaitAsync(ct)).Peer.ToString());
        await outbound.CloseAsync(ct);
        await js.CommandAsync("waitclosed " + host.PeerId, ct);

        var ping = await js.CommandAsync("ping " + host.ListenAddresses[0], ct);
        Assert.True(ping.GetProperty("rtt").GetDouble() >= 0);
        var inbound = Assert.Single(host.Connections);
        Assert.True(inbound.IsInbound);
    }
}
