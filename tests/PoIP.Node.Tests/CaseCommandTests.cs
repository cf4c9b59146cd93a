using System.Text.Json;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded;
using PoIP.Testing.Economics;
using Xunit;

namespace PoIP.Node.Tests;

/// <summary>
/// <c>poip ledger init</c> with accountability rules and <c>poip case show | appeal | finalize</c> on a real SQLite ledger
/// where two registered validators convicted a staked node (quorum 2, a 10-minute appeal window, a panel of 1).
/// </summary>
public sealed class CaseCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("poip-case-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task CaseCommands_ConvictedNode_ShowRefusedFinalizeRefusedStrangerThenNodeAppealDrawsThePanel()
    {
        string ledgerPath = Path.Combine(_dir, "ledger.db");
        var init = await ConsoleRun.RunAsync("ledger", "init", "--ledger", ledgerPath, "--slash-quorum", "2", "--appeal-window", "600", "--appeal-panel", "1", "--json");
        Assert.Equal(0, init.ExitCode);
        using (var json = JsonDocument.Parse(init.Out))
        {
            Assert.Equal(2, json.RootElement.GetProperty("slash_quorum").GetInt32());
            Assert.Equal(600, json.RootElement.GetProperty("appeal_window_s").GetDouble());
        }

        var again = await ConsoleRun.RunAsync("ledger", "init", "--ledger", ledgerPath);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("exists", again.Error, StringComparison.Ordinal);

        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        var validators = Enumerable.Range(0, 3).Select(_ => Ed25519KeyPair.Generate()).ToArray();
        var request = EvidenceFactory.Request(client, 1, TokenAmount.ParseTokens("1"));
        var receipt = EvidenceFactory.Receipt(node, request, TokenAmount.ParseTokens("0.5"));
        string receiptId = new ReceiptId(receipt.Hash).ToString();
        using (var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ledgerPath }))
        {
            var stake = (await ledger.GetParametersAsync()).MinimumStake;
            foreach (var peer in validators.Select(v => v.PeerId).Prepend(node.PeerId))
            {
                Assert.True((await ledger.DepositAsync(OperationId.New(), peer, stake)).IsApplied);
                Assert.True((await ledger.StakeAsync(OperationId.New(), peer, stake)).IsApplied);
            }

            foreach (var v in validators)
            {
                Assert.True((await ledger.RegisterValidatorAsync(OperationId.New(), v.PeerId)).IsApplied);
            }

            foreach (var v in validators[..2])
            {
                var verdict = SignedMessage.Create(v, new Verdict
                {
                    ReceiptId = new ReceiptId(receipt.Hash),
                    NodeId = node.PeerId,
                    ValidatorId = v.PeerId,
                    Outcome = VerdictOutcome.Fraud,
                    Reason = FraudReason.ActivationMismatch,
                    FirstFailingPosition = 2,
                    IssuedAt = TimeProvider.System.GetUtcNow(),
                });
                Assert.True((await ledger.SubmitVerdictAsync(OperationId.New(), verdict, request, receipt)).IsApplied);
            }
        }

        var show = await ConsoleRun.RunAsync("case", "show", receiptId, "--ledger", ledgerPath, "--json");
        Assert.Equal(0, show.ExitCode);
        using (var json = JsonDocument.Parse(show.Out))
        {
            Assert.Equal("convicted", json.RootElement.GetProperty("state").GetString());
            Assert.Equal(node.PeerId.ToString(), json.RootElement.GetProperty("accused").GetString());
            Assert.Equal(2, json.RootElement.GetProperty("fraud_verdicts").GetArrayLength());
            Assert.NotEqual(JsonValueKind.Null, json.RootElement.GetProperty("appeal_deadline").ValueKind);
        }

        var early = await ConsoleRun.RunAsync("case", "finalize", receiptId, "--ledger", ledgerPath, "--json");
        Assert.Equal(1, early.ExitCode);
        Assert.StartsWith("error: the ledger refused the finalize", early.Error, StringComparison.Ordinal);
        Assert.Contains("\"applied\":false", early.Out, StringComparison.Ordinal);

        string clientKey = Path.Combine(_dir, "client.key");
        string nodeKey = Path.Combine(_dir, "node.key");
        KeyFile.Write(clientKey, client);
        KeyFile.Write(nodeKey, node);
        var stranger = await ConsoleRun.RunAsync("case", "appeal", receiptId, "--ledger", ledgerPath, "--key", clientKey);
        Assert.Equal(1, stranger.ExitCode);
        Assert.Contains("only a party the conviction slashes may appeal", stranger.Error, StringComparison.Ordinal);

        var appeal = await ConsoleRun.RunAsync("case", "appeal", receiptId, "--ledger", ledgerPath, "--key", nodeKey, "--json");
        Assert.Equal(0, appeal.ExitCode);
        using (var json = JsonDocument.Parse(appeal.Out))
        {
            Assert.Equal("appealed", json.RootElement.GetProperty("state").GetString());
            Assert.Equal([validators[2].PeerId.ToString()], json.RootElement.GetProperty("panel").EnumerateArray().Select(p => p.GetString()));
        }

        var twice = await ConsoleRun.RunAsync("case", "appeal", receiptId, "--ledger", ledgerPath, "--key", nodeKey);
        Assert.Equal(1, twice.ExitCode);

        foreach (var v in validators)
        {
            v.Dispose();
        }
    }

    [Fact]
    public async Task CaseShow_NoCaseOrBadId_ExitOneOrTwoWithOneErrorLine()
    {
        string ledgerPath = Path.Combine(_dir, "empty.db");
        Assert.Equal(0, (await ConsoleRun.RunAsync("ledger", "init", "--ledger", ledgerPath)).ExitCode);

        var none = await ConsoleRun.RunAsync("case", "show", new string('a', 64), "--ledger", ledgerPath);
        Assert.Equal(1, none.ExitCode);
        Assert.Equal(["error: the ledger has no case on receipt " + new string('a', 64) + "."], none.ErrorLines);

        var bad = await ConsoleRun.RunAsync("case", "show", "xyz", "--ledger", ledgerPath);
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.ErrorLines);
        Assert.StartsWith("error: 'xyz' is not a receipt id", bad.ErrorLines[0], StringComparison.Ordinal);

        var rules = await ConsoleRun.RunAsync("ledger", "init", "--ledger", Path.Combine(_dir, "x.db"), "--slash-quorum", "0");
        Assert.Equal(2, rules.ExitCode);
        Assert.False(File.Exists(Path.Combine(_dir, "x.db")));
    }
}
