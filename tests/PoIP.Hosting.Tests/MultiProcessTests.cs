using System.Diagnostics;
using System.Text.Json;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Economics.Embedded;
using PoIP.Network.Addressing;
using PoIP.TestUtils;

namespace PoIP.Hosting.Tests;

/// <summary>
/// The roles as separate OS processes: <c>dotnet poip.dll node run</c>, <c>validator run</c> and
/// <c>client ask</c> (built with this test project) over one SQLite ledger file.
/// </summary>
[Collection(SeparateProcesses.Name)]
public sealed class MultiProcessTests : IDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(120);
    private readonly HostingFixture _fixture = new();
    private readonly List<Process> _processes = [];

    [Fact]
    public async Task NodeValidatorClient_SeparateProcesses_AnswerIsAuditedValidAndEscrowed()
    {
        var node = Start("node", "run", "--ledger", _fixture.LedgerPath, "--key", Key("node"), "--dev", "--model", HostingFixture.Stories, "--max-tokens", "24", "--threads", "1", "--stop-on-stdin-close");
        var validator = Start("validator", "run", "--ledger", _fixture.LedgerPath, "--key", Key("validator"), "--dev", "--audit-p", "1", "--model", HostingFixture.Stories, "--threads", "1", "--stop-on-stdin-close");
        var nodeAddress = await FirstLineAsync(node);
        var validatorAddress = await FirstLineAsync(validator);
        Assert.NotNull(nodeAddress.PeerId);

        var client = Start("client", "ask", "--ledger", _fixture.LedgerPath, "--key", Key("client"), "--dev", "--model", HostingFixture.Stories, "--max-tokens", "24", "--json",
            "--peer", nodeAddress.ToString(), "--validator", validatorAddress.ToString(), "Once upon a time");
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(StartLimit);
        while (await client.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            lines.Add(line);
        }

        await client.WaitForExitAsync(timeout.Token);
        Assert.True(client.ExitCode == 0, $"client exited {client.ExitCode}: {string.Join('\n', lines)} {await client.StandardError.ReadToEndAsync()}");
        Assert.Equal(2, lines.Count); // one answer, then the escrows
        var answer = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal(nodeAddress.PeerId!.Value.ToString(), answer.GetProperty("node").GetString());
        Assert.Equal(24, answer.GetProperty("output_tokens").GetInt32());
        Assert.True(answer.GetProperty("audit_selected").GetBoolean());
        Assert.Equal("Valid", answer.GetProperty("verdict").GetString());

        // The client's escrow is in the shared ledger, open until the dispute window passes.
        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = _fixture.LedgerPath });
        var escrow = await ledger.GetEscrowAsync(new RequestId(Sha256Digest.ParseHex(answer.GetProperty("request_id").GetString()!)));
        Assert.Equal(EscrowState.Open, escrow!.State);
        Assert.Equal(nodeAddress.PeerId!.Value, escrow.Node);
        Assert.True((await ledger.GetTotalsAsync()).IsConserved);

        // Closing standard input stops the servers cleanly.
        foreach (var server in new[] { node, validator })
        {
            server.StandardInput.Close();
            await server.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, server.ExitCode);
        }
    }

    [Fact]
    public async Task Demo_SeparateProcesses_CheaterCaughtAndSlashed_MoneyConserved()
    {
        var demo = Start("demo", "--separate-processes", "--json", "--nodes", "2", "--requests", "4", "--audit-p", "1", "--max-tokens", "24", "--model", HostingFixture.Stories);
        using var timeout = new CancellationTokenSource(StartLimit);
        var stderr = demo.StandardError.ReadToEndAsync(timeout.Token);
        string stdout = await demo.StandardOutput.ReadToEndAsync(timeout.Token);
        await demo.WaitForExitAsync(timeout.Token);

        Assert.True(demo.ExitCode == 0, $"demo exited {demo.ExitCode}: {stdout} {await stderr}");
        var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(4, summary.GetProperty("requests").GetInt32());
        Assert.Equal(4, summary.GetProperty("audited").GetInt32()); // p = 1: every answer re-executed
        Assert.True(summary.GetProperty("conserved").GetBoolean());
        Assert.True(summary.GetProperty("journal_matches_tables").GetBoolean());
        var nodes = summary.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(2, nodes.Count);
        Assert.Equal(4, nodes.Sum(n => n.GetProperty("served").GetInt32()));

        // Whatever the client's node selection: every answer of the cheater is caught and unpaid, and it
        // loses stake when it answered at all; honest nodes are paid for every answer and never slashed.
        var cheater = Assert.Single(nodes, n => n.GetProperty("cheats").GetBoolean());
        int cheated = cheater.GetProperty("served").GetInt32();
        Assert.Equal(cheated, cheater.GetProperty("frauds").GetInt32());
        Assert.Equal("0", cheater.GetProperty("earned").GetString());
        Assert.Equal("200", cheater.GetProperty("stake_before").GetString());
        Assert.Equal(cheated == 0, cheater.GetProperty("stake_after").GetString() == "200");
        var honest = Assert.Single(nodes, n => !n.GetProperty("cheats").GetBoolean());
        Assert.Equal(0, honest.GetProperty("frauds").GetInt32());
        Assert.Equal("200", honest.GetProperty("stake_after").GetString());
        Assert.Equal(4 - cheated, summary.GetProperty("settled").GetInt32()); // one payment per honest answer
        Assert.Equal(cheated + summary.GetProperty("abandoned_attempts").GetInt32(), summary.GetProperty("refunded").GetInt32()); // each fraud (and any dropped attempt) refunded
    }

    [Fact]
    public async Task NodeRun_WithoutStake_RefusesToStartWithMessage()
    {
        var node = Start("node", "run", "--ledger", _fixture.LedgerPath, "--key", Key("unstaked"), "--model", HostingFixture.Stories, "--threads", "1");
        using var timeout = new CancellationTokenSource(StartLimit);
        string stdout = await node.StandardOutput.ReadToEndAsync(timeout.Token);
        string stderr = await node.StandardError.ReadToEndAsync(timeout.Token);
        await node.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, node.ExitCode);
        Assert.Equal(string.Empty, stdout); // no multiaddr: it never listened
        Assert.Contains("below the ledger's minimum stake", stderr);
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }

        _fixture.Dispose();
    }

    private string Key(string name) => Path.Combine(_fixture.Directory, name + ".key");

    private Process Start(params string[] arguments)
    {
        var process = PoipCli.Start(arguments);
        _processes.Add(process);
        return process;
    }

    private static async Task<Multiaddr> FirstLineAsync(Process server)
    {
        using var timeout = new CancellationTokenSource(StartLimit);
        string? line = await server.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null)
        {
            Assert.Fail("the server exited before printing its address: " + await server.StandardError.ReadToEndAsync());
        }

        // Keep draining its output so it never blocks on a full pipe.
        _ = server.StandardOutput.ReadToEndAsync();
        _ = server.StandardError.ReadToEndAsync();
        return Multiaddr.Parse(line!);
    }
}

/// <summary>The multi-process tests run alone: each starts several .NET processes, which need the cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SeparateProcesses
{
    /// <summary>The collection's name.</summary>
    public const string Name = "separate processes";
}
