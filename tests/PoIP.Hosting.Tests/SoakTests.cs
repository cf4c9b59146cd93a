using System.Text.Json;
using PoIP.TestUtils;

namespace PoIP.Hosting.Tests;

/// <summary>
/// The short, bounded slice of <c>poip soak</c> that CI runs: 8 streaming clients through the gateway's OpenAI API for
/// 15 s against two node processes, a validator and the gateway, each its own process. Asserts the soak's invariants
/// (nothing lost, nothing paid twice or left in escrow, no stream or connection left open, money conserved); the
/// throughput figures are reported, never asserted.
/// </summary>
[Collection(SeparateProcesses.Name)]
public sealed class SoakTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(240);

    [Fact]
    public async Task Soak_EightClientsFifteenSeconds_NothingLostLeakedOrPaidTwice()
    {
        var (exit, stdout, stderr) = await PoipCli.RunAsync(Limit, "soak", "--clients", "8", "--duration", "15s", "--window", "5", "--nodes", "2", "--max-tokens", "8", "--json", "--model", HostingFixture.Stories);

        Assert.True(exit is 0 or 1, $"exit {exit}: {stdout} {stderr}");
        var report = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        var checks = report.GetProperty("checks");
        Assert.True(report.GetProperty("requests_answered").GetInt32() > 0, stdout);
        Assert.Equal(0, report.GetProperty("requests_lost").GetInt32());
        Assert.Equal(0, report.GetProperty("failures_unclear").GetInt32());
        Assert.Equal(0, report.GetProperty("double_charged").GetInt32());
        Assert.Equal(0, report.GetProperty("answered_not_paid").GetInt32());
        Assert.Equal(0, report.GetProperty("escrows_open").GetInt32());

        // Every answer (the warm-up's included) settled exactly once; the rest of the escrows (failed attempts) refunded.
        Assert.Equal(report.GetProperty("requests_answered").GetInt32() + report.GetProperty("warm_up_requests").GetInt32(), report.GetProperty("escrows_settled").GetInt32());
        Assert.Equal(report.GetProperty("escrows").GetInt32(), report.GetProperty("escrows_settled").GetInt32() + report.GetProperty("escrows_refunded").GetInt32());
        Assert.True(report.GetProperty("conserved").GetBoolean());
        Assert.True(report.GetProperty("journal_matches").GetBoolean());

        var roles = report.GetProperty("roles").EnumerateArray().ToList();
        Assert.Equal(["node-1", "node-2", "validator", "gateway"], roles.Select(r => r.GetProperty("role").GetString()));
        foreach (var role in roles)
        {
            Assert.Equal(0, role.GetProperty("streams_end").GetInt32());
            Assert.True(role.GetProperty("connections_end").GetInt32() <= role.GetProperty("connections_start").GetInt32(), role.ToString());
            Assert.True(role.GetProperty("tcp_end").GetInt32() <= role.GetProperty("connections_end").GetInt32(), role.ToString()); // the clients' HTTP connections are gone
            Assert.True(role.GetProperty("rss_end_mib").GetDouble() > 0);
        }

        foreach (string check in (string[])["memory_bounded", "no_leaked_streams", "no_leaked_connections", "escrows_closed", "no_lost_requests", "paid_once", "conserved"])
        {
            Assert.True(checks.GetProperty(check).GetBoolean(), check + ": " + stdout);
        }

        // The exit code is the conjunction of the checks (steady throughput included, which this test does not assert: it is timing).
        bool all = checks.EnumerateObject().All(c => c.Value.GetBoolean());
        Assert.Equal(all, report.GetProperty("ok").GetBoolean());
        Assert.Equal(all ? 0 : 1, exit);
    }

    /// <summary>
    /// The same slice on the DHT + chain wiring (a dev chain from npm's Anvil, a DHT bootstrap peer; the gateway finds the
    /// nodes in the DHT): 8 clients for 10 s, then the nodes' claims after the chain's 60 s dispute window (about 90 s in
    /// all on this machine). Every answer settled on chain exactly once, each node paid exactly its answers less the fee,
    /// the rest refunded, conserved. Before the DHT's outbound pacing the gateway was disconnected as a DHT flood within
    /// seconds and answers broke mid-stream. Hedging is on (the gateway's default): with 8-token answers a hedged second
    /// attempt sometimes finishes before its cancellation reaches its node, which then claims it. Before escrow groups
    /// that node was paid beside the answer's (the first fresh-clone CI run of this slice counted 1 such escrow in 97);
    /// now the attempts of a request share a group on chain and one of them is paid (paid_through_other_attempt counts
    /// the answers paid through a discarded attempt; each node's balance must still match what the chain paid it).
    /// </summary>
    [Fact]
    public async Task Soak_DhtChainWiringEightClientsTenSeconds_EveryAnswerPaidOnceOnChain()
    {
        var (exit, stdout, stderr) = await PoipCli.RunAsync(Limit, "soak", "--wiring", "dht-chain", "--clients", "8", "--duration", "10s", "--window", "5", "--nodes", "2", "--max-tokens", "8", "--json", "--model", HostingFixture.Stories);

        Assert.True(exit is 0 or 1, $"exit {exit}: {stdout} {stderr}");
        var report = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        var checks = report.GetProperty("checks");
        Assert.Equal("dht-chain", report.GetProperty("wiring").GetString());
        Assert.True(report.GetProperty("hedging").GetBoolean());
        Assert.True(report.GetProperty("paid_through_other_attempt").GetInt32() >= 0);
        int answered = report.GetProperty("requests_answered").GetInt32() + report.GetProperty("warm_up_requests").GetInt32();
        Assert.True(answered > 8, stdout);
        Assert.Equal(0, report.GetProperty("requests_lost").GetInt32());
        Assert.Equal(0, report.GetProperty("failures_unclear").GetInt32());
        Assert.Equal(0, report.GetProperty("double_charged").GetInt32());
        Assert.Equal(0, report.GetProperty("answered_not_paid").GetInt32());
        Assert.Equal(answered, report.GetProperty("escrows_settled").GetInt32());
        Assert.Equal(report.GetProperty("escrows").GetInt32(), report.GetProperty("escrows_settled").GetInt32() + report.GetProperty("escrows_refunded").GetInt32());
        Assert.Equal(0, report.GetProperty("escrows_open").GetInt32());
        Assert.Equal("0", report.GetProperty("chain").GetProperty("escrowed_at_end").GetString());
        foreach (var node in report.GetProperty("chain").GetProperty("nodes").EnumerateArray())
        {
            Assert.Equal(node.GetProperty("earned_expected").GetString(), node.GetProperty("balance_grew").GetString());
        }

        foreach (var role in report.GetProperty("roles").EnumerateArray())
        {
            Assert.Equal(0, role.GetProperty("streams_end").GetInt32());
        }

        // Not asserted: steady (timing) and no_leaked_connections (the DHT may open a connection during a run: the
        // 10-minute run ended with one more in two roles; reported, not yet explained).
        foreach (string check in (string[])["memory_bounded", "no_leaked_streams", "escrows_closed", "no_lost_requests", "paid_once", "conserved", "contract_holds_supply"])
        {
            Assert.True(checks.GetProperty(check).GetBoolean(), check + ": " + stdout);
        }

        bool all = checks.EnumerateObject().All(c => c.Value.GetBoolean());
        Assert.Equal(all, report.GetProperty("ok").GetBoolean());
        Assert.Equal(all ? 0 : 1, exit);
    }
}
