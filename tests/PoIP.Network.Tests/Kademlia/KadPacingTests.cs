using Microsoft.Extensions.Time.Testing;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using PoIP.Network.Kademlia.Wire;
using Xunit;

namespace PoIP.Network.Tests.Kademlia;

/// <summary>
/// Outbound pacing: a node never sends one peer more DHT requests than PoIP's own DHT admits from one peer. Found by
/// <c>poip soak --wiring dht-chain</c>: the gateway recorded every answer in the DHT (a lookup and a put per answer), went
/// past the nodes' budget of 50 requests/s, was refused as a flood and disconnected, and every inference stream on those
/// connections broke ("Interrupted: connection closed"), one answer being paid for though the user never got it.
/// </summary>
public class KadPacingTests
{
    [Fact]
    public async Task RequestAsync_MoreThanThePeersBudgetAtOnce_PacedNeverRefusedAsFlood()
    {
        var time = new FakeTimeProvider();
        var net = new InMemoryKadNetwork();
        static KademliaOptions Budget() => KadNetworkTests.Options(o => (o.RequestsPerSecond, o.RequestBurst) = (10, 10));
        var server = net.Add(Budget(), time);
        var client = net.Add(Budget(), time);
        var ping = new Message { Type = Message.Types.MessageType.Ping };

        // 12 at once: the server admits a burst of 10; the client sends 8 (its share) now and the rest as tokens come.
        var sent = Enumerable.Range(0, 12).Select(_ => client.RequestAsync(net.PeerOf(server), ping, expectReply: true, CancellationToken.None)).ToList();
        Assert.Equal(8, sent.Count(t => t.IsCompletedSuccessfully));
        Assert.Equal(4, sent.Count(t => !t.IsCompleted));
        for (int i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(125)); // one outbound token (8 per second)
        }

        await Task.WhenAll(sent).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(sent, t => Assert.Equal(Message.Types.MessageType.Ping, t.Result!.Type));
        Assert.Equal(0, server.Metrics.RefusedTotal);
        Assert.Empty(net.Disconnects);
    }

    [Fact]
    public void TryReserve_BucketEmpty_WaitsForItsTokenAndRefusesBeyondTheLimit()
    {
        var time = new FakeTimeProvider();
        var limiter = new PeerRateLimiter(perSecond: 4, burst: 2, time);
        var peer = InMemoryKadNetwork.RandomPeerId();

        Assert.True(limiter.TryReserve(peer, TimeSpan.FromSeconds(1), out var first));
        Assert.True(limiter.TryReserve(peer, TimeSpan.FromSeconds(1), out var second));
        Assert.True(limiter.TryReserve(peer, TimeSpan.FromSeconds(1), out var third));
        Assert.True(limiter.TryReserve(peer, TimeSpan.FromSeconds(1), out var fourth));
        Assert.False(limiter.TryReserve(peer, TimeSpan.FromSeconds(0.6), out _)); // would wait 0.75 s

        Assert.Equal(TimeSpan.Zero, first);
        Assert.Equal(TimeSpan.Zero, second);
        Assert.Equal(TimeSpan.FromSeconds(0.25), third);
        Assert.Equal(TimeSpan.FromSeconds(0.5), fourth);
        time.Advance(TimeSpan.FromSeconds(1)); // the two reservations are paid back, two tokens refilled
        Assert.True(limiter.TryReserve(peer, TimeSpan.Zero, out var refilled));
        Assert.Equal(TimeSpan.Zero, refilled);
    }
}
