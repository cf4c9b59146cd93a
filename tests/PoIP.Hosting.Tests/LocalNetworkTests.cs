using PoIP.Core.Money;
using PoIP.Hosting.Client;
using PoIP.Testing.LocalNetwork;
using PoIP.TestUtils;

namespace PoIP.Hosting.Tests;

/// <summary>
/// The demo scenario end to end over the real stack (llama.cpp on stories260K, libp2p on loopback,
/// re-execution, SQLite ledger), with every receipt audited so the outcome is deterministic.
/// </summary>
public sealed class LocalNetworkTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("poip-e2e-").FullName;

    private static readonly string[] Prompts = ["Once upon a time", "The cat sat on the mat and", "Tom had a red ball. One day,"];

    private async Task<NetworkSummary> RunAsync(CheatKind cheat, int requests, bool crashFirstNode = false, NodeSelectionPolicy selection = NodeSelectionPolicy.Competition)
    {
        string model = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");
        await using var network = await Testing.LocalNetwork.LocalNetwork.StartAsync(new LocalNetworkOptions
        {
            ModelPath = model,
            DataDirectory = _data,
            Nodes = 3,
            Cheat = cheat,
            AuditProbability = 1.0,
            MaxTokens = 24,
            CrashFirstNode = crashFirstNode,
            Selection = selection,
        });
        for (int i = 0; i < requests; i++)
        {
            await network.AskAsync(Prompts[i % Prompts.Length], (ulong)(i + 1));
        }

        var summary = await network.FinishAsync();
        foreach (string failure in summary.FailedAttempts)
        {
            output.WriteLine("retried after: " + failure);
        }

        return summary;
    }

    [Theory]
    [InlineData(CheatKind.AlterOutput)]
    [InlineData(CheatKind.OtherSeed)]
    [InlineData(CheatKind.Truncate)]
    public async Task Demo_CheatingNode_CaughtAndSlashed_HonestNodesPaid(CheatKind cheat)
    {
        var summary = await RunAsync(cheat, requests: 6);

        Assert.True(summary.Totals.IsConserved, $"money not conserved: {summary.Totals}");
        Assert.True(summary.JournalMatchesTables);
        Assert.Equal(6, summary.Audited);
        var cheater = Assert.Single(summary.Nodes, n => n.Cheats);
        // Competition: every node is tried once first, so the cheater answers one of the first three
        // requests, is caught (p = 1), and never wins the competition again.
        Assert.Equal(1, cheater.Served);
        Assert.Equal(1, cheater.Frauds);
        Assert.True(cheater.StakeAfter < cheater.StakeBefore, "the cheater lost stake");
        Assert.Equal(TokenAmount.Zero, cheater.Earned);
        foreach (var honest in summary.Nodes.Where(n => !n.Cheats))
        {
            Assert.True(honest.Reputation > cheater.Reputation, $"{honest.Name} ranks above the cheater");
            Assert.Equal(0, honest.Frauds);
            Assert.Equal(honest.StakeBefore, honest.StakeAfter);
            Assert.True(honest.Earned > TokenAmount.Zero, $"{honest.Name} was paid");
        }

        Assert.Equal(5, summary.Nodes.Where(n => !n.Cheats).Sum(n => n.Served));
        Assert.Equal(5, summary.Settled);
        Assert.Equal(1 + summary.AbandonedAttempts, summary.Refunded); // the fraud, plus any attempt a node dropped (retried elsewhere, never paid)
        Assert.Equal(TokenAmount.Zero, summary.Totals.Escrowed);
        Assert.True(summary.Totals.Burned > TokenAmount.Zero);
        Assert.InRange(summary.FirstFraudDetectedAfter, 1, 3);
    }

    [Fact]
    public async Task Demo_RoundRobin_CheaterBelowMinimumStake_RefusesAndClientRetriesElsewhere()
    {
        // Round robin keeps sending the cheater its turn, so the ledger's floor is what stops it:
        // every receipt audited; each fraud slashes half the stake (200 → 100 → 50 < minimum 100).
        var summary = await RunAsync(CheatKind.AlterOutput, requests: 9, selection: NodeSelectionPolicy.RoundRobin);

        var cheater = Assert.Single(summary.Nodes, n => n.Cheats);
        Assert.Equal(2, cheater.Served); // its third turn is skipped: the ledger refuses to escrow for a node below the minimum stake
        Assert.Equal(2, cheater.Frauds);
        Assert.Equal(9, summary.Requests);
        Assert.Equal(7, summary.Nodes.Where(n => !n.Cheats).Sum(n => n.Served)); // the refused request was answered by the next node
        Assert.Equal(7, summary.Settled);
        Assert.Equal(2 + summary.AbandonedAttempts, summary.Refunded); // the two frauds (no escrow is opened for the ineligible node)
        Assert.True(summary.Totals.IsConserved);
        Assert.Equal(TokenAmount.Zero, summary.Totals.Escrowed);
    }

    [Fact]
    public async Task Demo_NodeKilledMidRequest_ClientCompletesElsewhere_OneCharge()
    {
        var summary = await RunAsync(CheatKind.None, requests: 4, crashFirstNode: true);

        var crashed = summary.Nodes[0];
        Assert.Equal(0, crashed.Served);
        Assert.Equal(TokenAmount.Zero, crashed.Earned);
        Assert.Equal(4, summary.Nodes.Sum(n => n.Served)); // every request answered by a live node
        Assert.Equal(4, summary.Settled);                   // one payment per answer
        Assert.True(summary.AbandonedAttempts >= 1);        // at least the crashed attempt
        Assert.Equal(summary.AbandonedAttempts, summary.Refunded); // each went back to the client
        Assert.Equal(TokenAmount.Zero, summary.Totals.Escrowed);
        Assert.True(summary.Totals.IsConserved);
    }

    [Fact]
    public async Task Demo_NoCheater_EveryoneValidAndPaid()
    {
        var summary = await RunAsync(CheatKind.None, requests: 3);
        Assert.True(summary.Totals.IsConserved);
        Assert.All(summary.Nodes, n => Assert.Equal(0, n.Frauds));
        Assert.All(summary.Nodes, n => Assert.Equal(n.StakeBefore, n.StakeAfter));
        Assert.Equal(3, summary.Settled);
        Assert.Equal(summary.AbandonedAttempts, summary.Refunded);
        Assert.Equal(TokenAmount.Zero, summary.Totals.Burned);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
