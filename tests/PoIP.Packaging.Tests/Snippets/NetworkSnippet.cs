using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network;

namespace PoIP.Packaging.Tests.Snippets;

/// <summary>The example of src/PoIP.Network/README.md.</summary>
internal static class NetworkSnippet
{
    public static async Task<(TimeSpan RoundTrip, PeerId Remote, PeerId Expected)> RunAsync()
    {
        // begin-snippet: network
        // Two libp2p hosts on loopback (TCP, Noise, Yamux, identify, ping); the dialer pings the listener.
        using var serverKey = Ed25519KeyPair.Generate();
        var serverOptions = new Libp2pHostOptions { Key = serverKey };
        serverOptions.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        await using var server = Libp2pHost.Create(serverOptions);
        await server.StartAsync();

        using var clientKey = Ed25519KeyPair.Generate();
        await using var client = Libp2pHost.Create(new Libp2pHostOptions { Key = clientKey });
        await client.StartAsync();
        var connection = await client.DialAsync(server.ListenAddresses[0]); // ends in /p2p/<server's peer id>
        TimeSpan roundTrip = await connection.PingAsync();
        // end-snippet
        return (roundTrip, connection.RemotePeer, serverKey.PeerId);
    }
}
