using System.Text.Json;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;
using PoIP.Node.Hosts;
using PoIP.TestUtils;

namespace PoIP.Hosts.Tests;

/// <summary>Chaos on the host lab: roles on their own hosts, one of them killed.</summary>
[Collection(HostLabGroup.Name)]
public sealed class ChaosTests : LabTestBase
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
    [RootFact]
    public async Task NodeKilled_ClientFinishesOnTheOtherNode_EachAnswerEscrowedOnceAndTheDeadNodeNeverPaid()
    {
        string model = Model;
        var dead = Lab.AddHost("node-1");
        var alive = Lab.AddHost("node-2");
        var client = Lab.AddHost("client");
        string ledgerPath = CreateSharedLedger(client);

        LabProcess Node(LabHost host) => Lab.StartPoip(host, ["node", "run", "--ledger", ledgerPath, "--dev", "--key", host.KeyFile, "--listen", host.ListenAddress(4001), "--model", model, "--max-tokens", "12", "--threads", "1", "--stop-on-stdin-close"]);
        using var first = Node(dead);
        using var second = Node(alive);
        string deadAddress = await first.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);
        string aliveAddress = await second.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);

        first.Kill(); // SIGKILL: gone without a word; its host (namespace) stays
        Assert.NotEqual(0, await first.WaitForExitAsync(Limit));

        using var ask = Lab.StartPoip(client, ["client", "ask", "--ledger", ledgerPath, "--dev", "--key", client.KeyFile, "--model", model, "--max-tokens", "12", "--json", "--selection", "round-robin", "--repeat", "2",
            "--peer", deadAddress, "--peer", aliveAddress, "Once upon a time"]);
        Assert.True(await ask.WaitForExitAsync(Limit) == 0, ask.Tail());

        var lines = ask.Stdout.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var answers = lines.Where(l => l.TryGetProperty("text", out _)).ToList();
        string alivePeer = aliveAddress[(aliveAddress.LastIndexOf('/') + 1)..], deadPeer = deadAddress[(deadAddress.LastIndexOf('/') + 1)..];
        Assert.Equal(2, answers.Count);
        Assert.All(answers, a => Assert.Equal(alivePeer, a.GetProperty("node").GetString()));
        var failed = answers.SelectMany(a => a.GetProperty("failed_attempts").EnumerateArray()).Select(e => e.GetString()!).ToList();
        Assert.Contains(failed, f => f.StartsWith(deadPeer, StringComparison.Ordinal)); // its turn came, the client went elsewhere

        // One escrow per attempt: the answered ones name the live node; the dead node's stays open (no receipt: never settled, refunded once abandoned).
        var opened = Assert.Single(lines, l => l.TryGetProperty("opened_escrows", out _)).GetProperty("opened_escrows").EnumerateArray().Select(e => new RequestId(Sha256Digest.ParseHex(e.GetString()!))).ToList();
        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ledgerPath });
        var escrows = new List<EscrowInfo>();
        foreach (var id in opened)
        {
            escrows.Add((await ledger.GetEscrowAsync(id))!);
        }

        Assert.Equal(2 + failed.Count, escrows.Count);
        Assert.Equal(answers.Select(a => a.GetProperty("request_id").GetString()).Order(), escrows.Where(e => e.Node.ToString() == alivePeer).Select(e => e.Request.ToString()).Order());
        Assert.All(escrows, e => Assert.Equal(EscrowState.Open, e.State)); // nothing settled before the dispute window
        Assert.Equal(failed.Count(f => f.StartsWith(deadPeer, StringComparison.Ordinal)), escrows.Count(e => e.Node.ToString() == deadPeer));
        Assert.True((await ledger.GetTotalsAsync()).IsConserved);
        second.CloseInput();
        Assert.Equal(0, await second.WaitForExitAsync(Limit));
    }

    [RootFact]
    public async Task ValidatorKilled_AnswersStillDelivered_AuditsResumeAfterItRestarts()
    {
        string model = Model;
        var nodeHost = Lab.AddHost("node-1");
        var validatorHost = Lab.AddHost("validator");
        var client = Lab.AddHost("client");
        string ledgerPath = CreateSharedLedger(client);

        using var node = Lab.StartPoip(nodeHost, ["node", "run", "--ledger", ledgerPath, "--dev", "--key", nodeHost.KeyFile, "--listen", nodeHost.ListenAddress(4001), "--model", model, "--max-tokens", "8", "--threads", "1", "--stop-on-stdin-close"]);
        LabProcess Validator() => Lab.StartPoip(validatorHost, ["validator", "run", "--ledger", ledgerPath, "--dev", "--key", validatorHost.KeyFile, "--listen", validatorHost.ListenAddress(4001), "--audit-p", "1", "--model", model, "--threads", "1", "--stop-on-stdin-close"]);
        string nodeAddress = await node.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);
        var validator = Validator();
        string validatorAddress = await validator.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);

        async Task<JsonElement> AskAsync()
        {
            using var ask = Lab.StartPoip(client, ["client", "ask", "--ledger", ledgerPath, "--dev", "--key", client.KeyFile, "--model", model, "--max-tokens", "8", "--json",
                "--peer", nodeAddress, "--validator", validatorAddress, "Once upon a time"]);
            Assert.True(await ask.WaitForExitAsync(Limit) == 0, ask.Tail());
            return Assert.Single(ask.Stdout.Select(l => JsonDocument.Parse(l).RootElement), l => l.TryGetProperty("text", out _));
        }

        var before = await AskAsync();
        Assert.Equal("Valid", before.GetProperty("verdict").GetString());

        validator.Kill(); // SIGKILL: the validator's host stays, nothing listens on it
        Assert.NotEqual(0, await validator.WaitForExitAsync(Limit));
        validator.Dispose();
        var during = await AskAsync();
        Assert.False(string.IsNullOrEmpty(during.GetProperty("text").GetString())); // the answer is delivered all the same
        Assert.Equal("pending", during.GetProperty("verdict").GetString());
        Assert.Contains("unreachable, answer kept", during.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var restarted = Validator(); // same host, key and address
        Assert.Equal(validatorAddress, await restarted.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit));
        var after = await AskAsync();
        Assert.Equal("Valid", after.GetProperty("verdict").GetString());

        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ledgerPath });
        Assert.True((await ledger.GetTotalsAsync()).IsConserved);
        restarted.CloseInput();
        node.CloseInput();
        Assert.Equal(0, await restarted.WaitForExitAsync(Limit));
        Assert.Equal(0, await node.WaitForExitAsync(Limit));
    }

    private static string Model => RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models)");

    /// <summary>The one ledger file every role of the run shares (beside the hosts' folders), created before any role opens it.</summary>
    private static string CreateSharedLedger(LabHost anyHost)
    {
        string ledgerPath = Path.Combine(anyHost.Directory, "..", "ledger.db");
        using (EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ledgerPath, InitialParameters = EconomicParameters.Default }))
        {
            // genesis only
        }

        return ledgerPath;
    }
}
