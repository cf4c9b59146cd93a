using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Node.Hosts;

namespace PoIP.Hosts.Tests;

/// <summary>
/// Chaos on a network where every role is on its own host, meets through the DHT and settles on the chain
/// (<see cref="ChainNetworkFixture"/>): each case ends with nothing lost and money conserved on chain, and every node
/// paid exactly once for each answer it delivered.
/// </summary>
[Collection(HostLabGroup.Name)]
public sealed class NetworkChaosTests(ChainNetworkFixture network) : IClassFixture<ChainNetworkFixture>
{
    private static readonly TimeSpan Limit = ChainNetworkFixture.Limit;

    [RootFact]
    public async Task ChainRpcDown_ClaimsQueuedDurably_SettledOnceAfterTheHeal()
    {
        var before = await network.ReadChainAsync();
        using var ask = network.StartAsk(repeat: 4, maxTokens: 16);
        Assert.True(await ask.WaitForExitAsync(Limit) == 0, ask.Tail());
        var (answers, _) = ChainNetworkFixture.Lines(ask);
        Assert.Equal(4, answers.Count);

        // The chain's host is cut off (packets dropped, no reset) before the claims come due (60 s window).
        var outage = TimeProvider.System.GetTimestamp();
        network.Lab.Partition(network.Host("chain"));
        var owed = network.PricesByNode(answers);
        var claimers = network.Nodes.Where(n => owed[n.Value] > TokenAmount.Zero).Select(n => n.Key).ToList();
        Assert.Equal(2, claimers.Count); // round robin over both nodes
        foreach (string node in claimers)
        {
            Assert.NotEmpty(ClaimFiles(node)); // stored on the node's disk, not only in memory
        }

        // Down until every node's claim failed at least twice and at least 30 s passed (each failed call waits out its 15 s timeout).
        for (int failures = 2; ; failures++)
        {
            foreach (string node in claimers)
            {
                await network.Role(node).WaitForLineAsync(Counting(failures, "failed, will retry"), Limit, stderr: true);
            }

            if (TimeProvider.System.GetElapsedTime(outage) >= TimeSpan.FromSeconds(30))
            {
                break;
            }
        }

        var during = await ReadFromNodeHostAsync();
        Assert.Null(during); // the chain is unreachable from inside the lab, not just slow
        network.Lab.Heal(network.Host("chain"));

        var after = await network.WaitForChainAsync(s => network.Nodes.Values.All(p => s.Accounts[p].Balance - before.Accounts[p].Balance >= owed[p]), Limit, "claims settled after the heal");
        foreach (var peer in network.Nodes.Values)
        {
            Assert.Equal(owed[peer], after.Accounts[peer].Balance - before.Accounts[peer].Balance); // paid once per answer, nothing lost
        }

        Assert.True(after.Totals.IsConserved);
        Assert.True(after.ContractHoldsSupply);
        foreach (string node in claimers)
        {
            await network.Role(node).WaitForLineAsync(l => l.Contains("Payment claim for request", StringComparison.Ordinal) && l.Contains("Applied", StringComparison.Ordinal), Limit, stderr: true);
            Assert.Empty(ClaimFiles(node)); // answered for good: removed from the disk
        }
    }

    [RootFact]
    public async Task NodeKilledMidStream_UserFinishesOnTheOtherNode_EachAnswerPaidOnce()
    {
        var before = await network.ReadChainAsync();
        using var ask = network.StartAsk(repeat: 8, maxTokens: 128);
        await ask.WaitForLineAsync(l => l.Contains("\"node\"", StringComparison.Ordinal), Limit); // the stream of requests is running
        var victim = network.Role("node-1");
        victim.Kill(); // SIGKILL: no goodbye, its host stays
        Assert.NotEqual(0, await victim.WaitForExitAsync(Limit));
        int seenAtDeath = ChainNetworkFixture.Lines(ask).Answers.Count;
        Assert.True(await ask.WaitForExitAsync(Limit) == 0, ask.Tail()); // every request answered

        var (answers, errors) = ChainNetworkFixture.Lines(ask);
        Assert.Empty(errors);
        Assert.Equal(8, answers.Count);
        string alive = network.Nodes["node-2"].ToString();
        Assert.All(answers.Where(a => a.GetProperty("index").GetInt32() > seenAtDeath + 1), a => Assert.Equal(alive, a.GetProperty("node").GetString())); // started after the death: elsewhere
        Assert.Contains(answers, a => a.GetProperty("attempts").GetInt32() > 1); // the dead node's turn came and the request went on to the other

        // Restarted with the same key and folder, the dead node claims what it delivered before dying (its claims were on disk); nobody is paid twice.
        var restarted = network.StartNode("node-1");
        await restarted.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);
        var owed = network.PricesByNode(answers);
        var after = await network.WaitForChainAsync(s => network.Nodes.Values.All(p => s.Accounts[p].Balance - before.Accounts[p].Balance >= owed[p]), Limit, "every delivered answer paid");
        Assert.Equal(owed[network.Nodes["node-1"]], after.Accounts[network.Nodes["node-1"]].Balance - before.Accounts[network.Nodes["node-1"]].Balance);
        Assert.Equal(owed[network.Nodes["node-2"]], after.Accounts[network.Nodes["node-2"]].Balance - before.Accounts[network.Nodes["node-2"]].Balance);
        Assert.True(after.Totals.IsConserved);
        Assert.True(after.ContractHoldsSupply);
    }

    [RootFact]
    public async Task GatewayRestart_InFlightRequestsFailWithAClearError_NoneChargedTwice()
    {
        var before = await network.ReadChainAsync();
        using var ask = network.StartAsk(repeat: 20, maxTokens: 128);
        await ask.WaitForLineAsync(l => l.Contains("\"node\"", StringComparison.Ordinal), Limit);
        network.Role("gateway").Kill(); // SIGKILL mid-run: the request in flight has nowhere to go
        Assert.Equal(1, await ask.WaitForExitAsync(Limit)); // the user says some failed
        var (delivered, errors) = ChainNetworkFixture.Lines(ask);
        Assert.NotEmpty(errors);
        Assert.All(errors, e =>
        {
            string message = e.GetProperty("error").GetString()!;
            Assert.False(string.IsNullOrWhiteSpace(message));
            Assert.DoesNotContain("Exception", message, StringComparison.Ordinal); // a sentence, not a .NET type
        });

        await network.StartGatewayAsync(); // same host, key and address
        using var again = network.StartAsk(repeat: 2, maxTokens: 16);
        Assert.True(await again.WaitForExitAsync(Limit) == 0, again.Tail());
        var (answers, _) = ChainNetworkFixture.Lines(again);
        Assert.Equal(2, answers.Count);

        // Every delivered answer is paid once; the one in flight when the gateway died may have been finished by its node
        // (signed, claimed) but never twice: at most one more answer's worth per node (its price cap).
        var owed = network.PricesByNode(delivered.Concat(answers));
        var after = await network.WaitForChainAsync(s => network.Nodes.Values.All(p => s.Accounts[p].Balance - before.Accounts[p].Balance >= owed[p]), Limit, "every delivered answer paid");
        var mostPerAnswer = TokenAmount.ParseTokens("0.001").Multiply(128);
        foreach (var peer in network.Nodes.Values)
        {
            var earned = after.Accounts[peer].Balance - before.Accounts[peer].Balance;
            Assert.True(owed[peer] <= earned && earned <= owed[peer] + mostPerAnswer, $"{peer}: earned {earned}, delivered answers cost {owed[peer]}");
        }

        Assert.True(after.Totals.IsConserved);
        Assert.True(after.ContractHoldsSupply);
    }

    [RootFact]
    public async Task ClockSkewFiveMinutes_NodesAheadAndBehind_AnswersDeliveredAndPaidOnce()
    {
        // Namespaces share the kernel's clock: each node's own clock (--clock-offset, its TimeProvider) runs 5 min ahead or behind the gateway's.
        await network.RestartNodeAsync("node-1", "--clock-offset", "300");
        await network.RestartNodeAsync("node-2", "--clock-offset", "-300");
        try
        {
            var before = await network.ReadChainAsync();
            using var ask = network.StartAsk(repeat: 4, maxTokens: 16);
            Assert.True(await ask.WaitForExitAsync(Limit) == 0, ask.Tail()); // requests dated by the gateway's clock are not "expired" or "too far ahead" on either node
            var (answers, _) = ChainNetworkFixture.Lines(ask);
            Assert.Equal(4, answers.Count);
            var owed = network.PricesByNode(answers);
            Assert.All(network.Nodes.Values, p => Assert.NotEqual(TokenAmount.Zero, owed[p])); // both skewed nodes served

            var after = await network.WaitForChainAsync(s => network.Nodes.Values.All(p => s.Accounts[p].Balance - before.Accounts[p].Balance >= owed[p]), Limit, "skewed nodes paid");
            foreach (var peer in network.Nodes.Values)
            {
                Assert.Equal(owed[peer], after.Accounts[peer].Balance - before.Accounts[peer].Balance);
            }

            Assert.True(after.Totals.IsConserved);
            Assert.True(after.ContractHoldsSupply);
        }
        finally
        {
            await network.RestartNodeAsync("node-1");
            await network.RestartNodeAsync("node-2");
        }
    }

    [RootFact]
    public async Task NodeCutFromTheDhtOnly_ServesMeanwhile_ItsRecordsReachTheOthersAfterTheHeal()
    {
        // node-1 is cut from the DHT's server peers only (the bootstrap host and node-2; the gateway is a DHT client):
        // it still reaches the gateway (serves) and the chain (is paid).
        var node = network.Host("node-1");
        string nodePeer = network.Nodes["node-1"].ToString();
        var before = await network.ReadChainAsync();
        List<System.Text.Json.JsonElement> answers;
        List<string> cutOff;
        network.Lab.Partition(node, network.Host("bootstrap"));
        network.Lab.Partition(node, network.Host("node-2"));
        try
        {
            using var ask = network.StartAsk(repeat: 4, maxTokens: 16);
            Assert.True(await ask.WaitForExitAsync(Limit) == 0, ask.Tail());
            (answers, _) = ChainNetworkFixture.Lines(ask);
            Assert.Equal(4, answers.Count);
            cutOff = [.. answers.Where(a => a.GetProperty("node").GetString() == nodePeer).Select(a => a.GetProperty("request_id").GetString()!)];
            Assert.NotEmpty(cutOff); // round robin: node-1 served while cut from the DHT

            // Its own put of its record of the first one reached no DHT server peer: the node says so and retries.
            // (Its record may still reach the DHT meanwhile through the gateway: a DHT client that reads node-1's local
            // copy when it merges its own record into the request's set; the test does not depend on that.)
            await network.Role("node-1").WaitForLineAsync(RecordLine(cutOff[0], "retrying"), Limit, stderr: true);
        }
        finally
        {
            network.Lab.Heal(node, network.Host("bootstrap"));
            network.Lab.Heal(node, network.Host("node-2"));
        }

        // After the heal the node's own retry is held by DHT peers (its empty routing table refilled from the bootstrap
        // peer), and every record node-1 made while cut off is in the DHT (bounded polling of external processes, with a deadline).
        await network.Role("node-1").WaitForLineAsync(RecordLine(cutOff[0], "held by"), Limit, stderr: true);
        var started = TimeProvider.System.GetTimestamp();
        foreach (string id in cutOff)
        {
            while (!(await RecordSignersAsync(id)).Contains(nodePeer))
            {
                Assert.True(TimeProvider.System.GetElapsedTime(started) < Limit, $"node-1's record of {id} not in the DHT {Limit.TotalSeconds:0} s after the heal: {network.Role("node-1").Tail()}");
            }
        }

        // Nothing lost on chain either: every answer paid once (this also leaves the network settled for the next test).
        var owed = network.PricesByNode(answers);
        var after = await network.WaitForChainAsync(s => network.Nodes.Values.All(p => s.Accounts[p].Balance - before.Accounts[p].Balance >= owed[p]), Limit, "every answer paid");
        Assert.All(network.Nodes.Values, p => Assert.Equal(owed[p], after.Accounts[p].Balance - before.Accounts[p].Balance));
        Assert.True(after.Totals.IsConserved);
    }

    [RootFact]
    public async Task ValidatorKilled_AnswersStillDelivered_AuditsResumeAfterItRestarts()
    {
        // The validator is found through the DHT only (the gateway has no --validator): it announces itself there.
        var validator = network.StartValidator();
        LabProcess? killed = null;
        try
        {
            await validator.WaitForLineAsync(l => l.Contains("announced as a validator", StringComparison.Ordinal), Limit, stderr: true);
            var before = await network.ReadChainAsync();
            using var first = network.StartAsk(repeat: 2, maxTokens: 16, auditWait: 60);
            Assert.True(await first.WaitForExitAsync(Limit) == 0, first.Tail());
            var (audited, _) = ChainNetworkFixture.Lines(first);
            Assert.Equal(2, audited.Count);
            Assert.All(audited, a => Assert.Equal("valid", a.GetProperty("audit").GetString())); // the gateway found it and it audits

            validator.Kill(); // SIGKILL: its host stays, nothing listens there any more
            Assert.NotEqual(0, await validator.WaitForExitAsync(Limit));
            killed = validator;
            using var during = network.StartAsk(repeat: 2, maxTokens: 16, auditWait: 5);
            Assert.True(await during.WaitForExitAsync(Limit) == 0, during.Tail()); // answers delivered all the same
            var (kept, _) = ChainNetworkFixture.Lines(during);
            Assert.Equal(2, kept.Count);
            Assert.All(kept, a =>
            {
                Assert.False(string.IsNullOrEmpty(a.GetProperty("text").GetString()));
                Assert.Equal("pending", a.GetProperty("audit").GetString());
                Assert.Contains("unreachable, answer kept", a.GetProperty("audit_detail").GetString(), StringComparison.Ordinal);
            });

            validator = network.StartValidator(); // same host, key and address
            await validator.WaitForLineAsync(l => l.Contains("announced as a validator", StringComparison.Ordinal), Limit, stderr: true);
            using var after = network.StartAsk(repeat: 2, maxTokens: 16, auditWait: 60);
            Assert.True(await after.WaitForExitAsync(Limit) == 0, after.Tail());
            var (resumed, _) = ChainNetworkFixture.Lines(after);
            Assert.Equal(2, resumed.Count);
            Assert.All(resumed, a => Assert.Equal("valid", a.GetProperty("audit").GetString()));

            // The answers kept during the outage are handed to the validator again (the gateway's retries, 10 s apart
            // and doubling) and decided once it is back.
            foreach (var answer in kept)
            {
                string receipt = answer.GetProperty("receipt_id").GetString()!;
                Assert.Equal("valid", await FinalAuditAsync(receipt, TimeSpan.FromSeconds(400)));
            }

            // Nothing lost on chain: every answer paid once, audited or not.
            var owed = network.PricesByNode(audited.Concat(kept).Concat(resumed));
            var settled = await network.WaitForChainAsync(s => network.Nodes.Values.All(p => s.Accounts[p].Balance - before.Accounts[p].Balance >= owed[p]), Limit, "every answer paid");
            Assert.All(network.Nodes.Values, p => Assert.Equal(owed[p], settled.Accounts[p].Balance - before.Accounts[p].Balance));
            Assert.True(settled.Totals.IsConserved);
            Assert.True(settled.ContractHoldsSupply);
        }
        finally
        {
            validator.CloseInput(); // the network as the test found it: no validator
            await validator.WaitForExitAsync(Limit);
            validator.Dispose();
            killed?.Dispose();
        }
    }

    private static Func<string, bool> RecordLine(string requestId, string text) =>
        l => l.Contains($"transaction record of {requestId[..16]}", StringComparison.Ordinal) && l.Contains(text, StringComparison.Ordinal);

    /// <summary>
    /// The gateway's final audit state of a receipt (header <c>x-poip-audit</c> of <c>/v1/receipts/ID?wait=60</c>, read
    /// with Node's fetch on the user host), read again until it is final or <paramref name="limit"/> passes (bounded
    /// polling of an external process, with a deadline).
    /// </summary>
    private async Task<string?> FinalAuditAsync(string receiptId, TimeSpan limit)
    {
        const string Script = "(async () => { const r = await fetch(`${process.argv[1]}/v1/receipts/${process.argv[2]}?wait=60`);"
            + " console.log(JSON.stringify({ status: r.status, audit: r.headers.get('x-poip-audit') })); })().catch(e => { console.error(String(e)); process.exit(1); });";
        var started = TimeProvider.System.GetTimestamp();
        string? audit = null;
        while (TimeProvider.System.GetElapsedTime(started) < limit)
        {
            using var read = network.Lab.Start(network.Host("user"), "node", ["-e", Script, network.GatewayUrl, receiptId]);
            Assert.True(await read.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 0, read.Tail());
            var reply = System.Text.Json.JsonDocument.Parse(read.Stdout.Last(l => l.StartsWith('{'))).RootElement;
            Assert.Equal(200, reply.GetProperty("status").GetInt32());
            audit = reply.GetProperty("audit").GetString();
            if (audit is "valid" or "fraud" or "inconclusive")
            {
                return audit;
            }
        }

        return audit;
    }

    /// <summary>The signers of the node-role transaction records the DHT holds for a request (<c>poip dht records --json</c> from the user host).</summary>
    private async Task<List<string>> RecordSignersAsync(string requestId)
    {
        using var records = network.Lab.StartPoip(network.Host("user"), ["dht", "records", requestId, "--bootstrap", network.Bootstrap, "--timeout", "20", "--json"]);
        await records.WaitForExitAsync(TimeSpan.FromSeconds(40));
        string? line = records.Stdout.LastOrDefault(l => l.StartsWith('{'));
        return line is null ? [] : [.. System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("records").EnumerateArray()
            .Where(r => r.GetProperty("role").GetString() == "node").Select(r => r.GetProperty("signer").GetString()!)];
    }

    /// <summary>A line predicate that accepts the <paramref name="n"/>th line containing <paramref name="text"/>.</summary>
    private static Func<string, bool> Counting(int n, string text)
    {
        int seen = 0;
        return line => line.Contains(text, StringComparison.Ordinal) && ++seen == n;
    }

    private string[] ClaimFiles(string node)
    {
        string folder = Path.Combine(network.Host(node).Directory, "identity.payment-claims");
        return Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
    }

    /// <summary>Asks the chain from a node's host with a short timeout: null when it cannot be reached.</summary>
    private async Task<string?> ReadFromNodeHostAsync()
    {
        var host = network.Host("node-2");
        using var show = network.Lab.StartPoip(host, ["ledger", "show", "--chain", network.ChainUrl, "--deployment", Path.Combine(host.Directory, "deployment.json"), "--json"]);
        int exit = await show.WaitForExitAsync(TimeSpan.FromSeconds(20)); // killed after 20 s: a hung read is "unreachable" too
        return exit == 0 && show.Stdout.Count > 0 ? show.Stdout[^1] : null;
    }
}
