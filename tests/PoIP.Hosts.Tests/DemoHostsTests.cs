using System.Text.Json;
using PoIP.Node.Hosts;
using PoIP.TestUtils;

namespace PoIP.Hosts.Tests;

/// <summary>
/// <c>poip demo --hosts</c>: every role on its own host (namespace) with its own keys and folder, meeting through the
/// DHT (a bootstrap host), settling on the chain (an Anvil host), users in through the gateway (a gateway host and a
/// user host); the cheater caught and slashed on chain, nothing left behind.
/// </summary>
[Collection(HostLabGroup.Name)]
public sealed class DemoHostsTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(240);

    [RootFact]
    public async Task DemoHosts_DhtChainGateway_CheaterSlashedOnChain_MoneyConserved_NothingLeft()
    {
        string model = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models)");
        var (exit, stdout, stderr) = await PoipCli.RunAsync(Limit, "demo", "--hosts", "--json", "--max-tokens", "12", "--link-delay-ms", "2", "--model", model);

        Assert.True(exit == 0, $"exit {exit}: {stdout} {stderr}");
        var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal("hosts", summary.GetProperty("mode").GetString());
        Assert.True(summary.GetProperty("ok").GetBoolean());
        Assert.True(summary.GetProperty("cheater_caught").GetBoolean());
        Assert.InRange(summary.GetProperty("miss_probability").GetDouble(), 0, 1e-6);
        Assert.True(summary.GetProperty("conserved").GetBoolean());
        Assert.Equal("chain", summary.GetProperty("ledger").GetString());
        Assert.Equal("dht-chain", summary.GetProperty("wiring").GetString());
        Assert.True(summary.GetProperty("contract_holds_supply").GetBoolean()); // read from the chain: the contract holds every coin of the supply

        // Eight hosts: the chain, the DHT's bootstrap peer, three nodes, the validator, the gateway, the user; each its own namespace and address on the run's /24.
        string run = summary.GetProperty("run").GetString()!;
        var hosts = summary.GetProperty("hosts").EnumerateArray().ToList();
        Assert.Equal(["bootstrap", "chain", "gateway", "node-1", "node-2", "node-3", "user", "validator"], hosts.Select(h => h.GetProperty("role").GetString()!).Order());
        Assert.All(hosts, h => Assert.StartsWith($"poip-{run}-", h.GetProperty("namespace").GetString()!, StringComparison.Ordinal));
        Assert.Equal(8, hosts.Select(h => h.GetProperty("address").GetString()).Distinct().Count());
        string subnet = summary.GetProperty("subnet").GetString()!;
        Assert.All(hosts, h => Assert.StartsWith(subnet[..subnet.LastIndexOf('.')], h.GetProperty("address").GetString()!, StringComparison.Ordinal));

        var nodes = summary.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(3, nodes.Select(n => n.GetProperty("peer_id").GetString()).Distinct().Count()); // own key files
        var cheater = Assert.Single(nodes, n => n.GetProperty("cheats").GetBoolean());
        Assert.True(cheater.GetProperty("frauds").GetInt32() > 0);
        Assert.True(cheater.GetProperty("served").GetInt32() > 0); // the gateway found it in the DHT: it was handed no address
        Assert.NotEqual("200", cheater.GetProperty("stake_after").GetString());
        Assert.All(nodes.Where(n => !n.GetProperty("cheats").GetBoolean()), n => Assert.Equal("200", n.GetProperty("stake_after").GetString()));

        Assert.Empty(HostLab.NamespacesStartingWith($"poip-{run}-"));
        Assert.False(File.Exists($"/run/poip-hosts/{run}.lock"));
    }

    [Fact]
    public async Task DemoHosts_WithSeparateProcesses_IsRefusedBeforeAnythingRuns()
    {
        var (exit, stdout, stderr) = await PoipCli.RunAsync(TimeSpan.FromSeconds(60), "demo", "--hosts", "--separate-processes");

        Assert.NotEqual(0, exit); // Spectre's validation exit code today; the strict-console work maps every usage error to 2
        Assert.DoesNotContain("PoIP demo", stdout, StringComparison.Ordinal); // refused before anything ran
        Assert.Contains("--hosts and --separate-processes are two modes", stdout + stderr); // Spectre writes it to stdout today
    }
}
