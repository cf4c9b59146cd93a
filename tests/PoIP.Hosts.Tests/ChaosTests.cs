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
