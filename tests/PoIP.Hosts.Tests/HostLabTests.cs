using System.Text.Json;
using PoIP.Node.Hosts;
using PoIP.TestUtils;

namespace PoIP.Hosts.Tests;

/// <summary>The host lab in this test process: namespaces, addresses, the real libp2p stack between them, delay, partitions.</summary>
[Collection(HostLabGroup.Name)]
public sealed class HostLabTests : LabTestBase
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    [RootFact]
    public async Task AddHost_TwoHosts_NamespacesWithTheirAddresses_DisposeRemovesThem()
    {
        var a = Lab.AddHost("a");
        var b = Lab.AddHost("b");

        Assert.Equal([a.Namespace, b.Namespace], HostLab.NamespacesStartingWith(Lab.RunPrefix).Order());
        Assert.StartsWith(Lab.RunPrefix, a.Namespace, StringComparison.Ordinal);
        Assert.NotEqual(a.Address, b.Address);
        Assert.Contains($"inet {a.Address}/24", IpCommand.Run("-n", a.Namespace, "-4", "addr", "show", "eth0"));
        Assert.Contains($"inet {b.Address}/24", IpCommand.Run("-n", b.Namespace, "-4", "addr", "show", "eth0"));
        Assert.True(Directory.Exists(a.Directory));
        Assert.NotEqual(a.Directory, b.Directory);

        await Lab.DisposeAsync();

        Assert.Empty(HostLab.NamespacesStartingWith(Lab.RunPrefix));
        Assert.False(File.Exists($"/run/poip-hosts/{Lab.RunId}.lock"));
        Assert.False(Directory.Exists(a.Directory));
    }

    [RootFact]
    public async Task P2pPing_FromOneHostToAnother_AnsweredOverTheRealStack()
    {
        var a = Lab.AddHost("a");
        var b = Lab.AddHost("b");
        using var listener = Lab.StartPoip(a, ["p2p", "listen", "--listen", a.ListenAddress(4001), "--key", a.KeyFile]);
        string address = await listener.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);
        Assert.StartsWith($"/ip4/{a.Address}/tcp/4001/p2p/", address, StringComparison.Ordinal);

        var (exit, rtts) = await PingAsync(b, address, count: 2);

        Assert.Equal(0, exit);
        Assert.Equal(2, rtts.Count);
        // The listener saw the connection come from b's own address on the lab's wire.
        await listener.WaitForLineAsync(l => l.StartsWith("connected: ", StringComparison.Ordinal) && l.Contains($"/ip4/{b.Address}/tcp/", StringComparison.Ordinal), Limit, stderr: true);
        Assert.True(File.Exists(a.KeyFile)); // the listener's identity lives in its own host's folder
    }

    [RootFact]
    public async Task SetLink_Delays_RoundTripAtLeastTwiceBothLinks()
    {
        var a = Lab.AddHost("a");
        var b = Lab.AddHost("b");
        Lab.SetLink(a, new LinkSettings(TimeSpan.FromMilliseconds(15)));
        Lab.SetLink(b, new LinkSettings(TimeSpan.FromMilliseconds(5)));
        using var listener = Lab.StartPoip(a, ["p2p", "listen", "--listen", a.ListenAddress(4001)]);
        string address = await listener.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);

        var (exit, rtts) = await PingAsync(b, address, count: 3);

        Assert.Equal(0, exit);
        Assert.Equal(3, rtts.Count);
        Assert.All(rtts, rtt => Assert.True(rtt >= 40, $"round trip {rtt} ms < 2 × (15 + 5) ms")); // each direction crosses both links
    }

    [RootFact]
    public async Task Partition_PingGetsNoAnswer_HealRestoresIt()
    {
        var a = Lab.AddHost("a");
        var b = Lab.AddHost("b");
        using var listener = Lab.StartPoip(a, ["p2p", "listen", "--listen", a.ListenAddress(4001)]);
        string address = await listener.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);
        Assert.Equal(0, (await PingAsync(b, address, count: 1)).Exit);

        Lab.Partition(a);
        using (var cut = Lab.StartPoip(b, ["p2p", "ping", address, "--count", "1", "--timeout", "2", "--json"]))
        {
            Assert.Equal(1, await cut.WaitForExitAsync(Limit));
            Assert.Contains(cut.Stderr, l => l.StartsWith("error: ping ", StringComparison.Ordinal) && l.Contains("no answer within 2 s", StringComparison.Ordinal));
            Assert.Empty(cut.Stdout);
        }

        Lab.Heal(a);
        var (exit, rtts) = await PingAsync(b, address, count: 2);
        Assert.Equal(0, exit);
        Assert.Equal(2, rtts.Count);
    }

    private async Task<(int Exit, List<double> Rtts)> PingAsync(LabHost from, string address, int count)
    {
        using var ping = Lab.StartPoip(from, ["p2p", "ping", address, "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--timeout", "20", "--json"]);
        int exit = await ping.WaitForExitAsync(Limit);
        if (exit != 0)
        {
            return (exit, []);
        }

        var json = JsonDocument.Parse(Assert.Single(ping.Stdout)).RootElement;
        return (exit, [.. json.GetProperty("rtt_ms").EnumerateArray().Select(e => e.GetDouble())]);
    }
}
