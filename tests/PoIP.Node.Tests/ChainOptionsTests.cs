namespace PoIP.Node.Tests;

/// <summary>The chain flags of every role and of the chain commands: checked before any side effect, one clean error line, exit 2.</summary>
public sealed class ChainOptionsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-chain-options-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string[]> RolesWithLedgerAndChain() =>
    [
        ["node", "run"],
        ["validator", "run"],
        ["client", "ask", "hello"],
        ["gateway", "run", "--http", "127.0.0.1:0", "--peer", "/ip4/127.0.0.1/tcp/1"],
    ];

    [Theory]
    [MemberData(nameof(RolesWithLedgerAndChain))]
    public async Task Role_LedgerAndChainTogether_ExitsTwoBeforeCreatingAnyFile(string[] role)
    {
        string key = Path.Combine(_directory, "role.key");
        string ledger = Path.Combine(_directory, "ledger.db");

        var result = await ConsoleRun.RunAsync([.. role, "--key", key, "--ledger", ledger, "--chain", "http://127.0.0.1:1", "--deployment", Path.Combine(_directory, "d.json"), "--dev"]);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("--ledger and --chain", line, StringComparison.Ordinal);
        StrictConsoleTests.AssertClean(line);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory)); // no key, chain key or ledger
    }

    [Fact]
    public async Task NodeRun_ChainWithoutDeployment_ExitsTwoNamingTheOption()
    {
        var result = await ConsoleRun.RunAsync("node", "run", "--key", Path.Combine(_directory, "n.key"), "--chain", "http://127.0.0.1:1");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--deployment", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory));
    }

    [Fact]
    public async Task ValidatorRun_MalformedDeploymentFile_ExitsTwoNamingTheFile()
    {
        string deployment = Path.Combine(_directory, "deployment.json");
        await File.WriteAllTextAsync(deployment, "{\"chain_id\": 31337, \"contracts\": {}}");

        var result = await ConsoleRun.RunAsync("validator", "run", "--key", Path.Combine(_directory, "v.key"), "--chain", "http://127.0.0.1:1", "--deployment", deployment);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("deployment.json", line, StringComparison.Ordinal);
        StrictConsoleTests.AssertClean(line);
        Assert.False(File.Exists(Path.Combine(_directory, "v.key")));
    }

    [Fact]
    public async Task ClientAsk_ChainNotHttp_ExitsTwo()
    {
        var result = await ConsoleRun.RunAsync("client", "ask", "hi", "--chain", "ftp://x", "--deployment", "d.json");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--chain", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerShow_LedgerAndChain_ExitsTwo()
    {
        string ledger = Path.Combine(_directory, "ledger.db");
        await File.WriteAllTextAsync(ledger, string.Empty);

        var result = await ConsoleRun.RunAsync("ledger", "show", "--ledger", ledger, "--chain", "http://127.0.0.1:1", "--deployment", ledger);

        Assert.Equal(2, result.ExitCode);
        StrictConsoleTests.AssertClean(Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task ChainDeploy_KeyFileNotAKey_ExitsTwoWithoutWritingTheDeployment()
    {
        string key = Path.Combine(_directory, "deployer.key");
        await File.WriteAllTextAsync(key, "not hex");
        string output = Path.Combine(_directory, "out.json");

        var result = await ConsoleRun.RunAsync("chain", "deploy", "--rpc", "http://127.0.0.1:1", "--key", key, "--out", output);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("deployer.key", line, StringComparison.Ordinal);
        StrictConsoleTests.AssertClean(line);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task ChainDeploy_DeadRpc_ExitsOneWithOneLine()
    {
        string key = Path.Combine(_directory, "deployer.key");
        await File.WriteAllTextAsync(key, "0x" + new string('1', 64));

        var result = await ConsoleRun.RunAsync("chain", "deploy", "--rpc", "http://127.0.0.1:1", "--key", key, "--out", Path.Combine(_directory, "out.json"));

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("127.0.0.1:1", line, StringComparison.Ordinal);
        StrictConsoleTests.AssertClean(line);
    }

    [Theory]
    [InlineData("--accounts", "0")]
    [InlineData("--out", "/no/such/folder/d.json")]
    [InlineData("--host", "localhost")]
    [InlineData("--host", "10.0.0.300")]
    [InlineData("--dispute-window", "59")]
    [InlineData("--block-time", "0.01")]
    [InlineData("--block-time", "61")]
    [InlineData("--block-time", "-1")]
    [InlineData("--block-time", "soon")]
    public async Task ChainDev_BadOption_ExitsTwoBeforeStartingAChain(string option, string value)
    {
        var result = await ConsoleRun.RunAsync("chain", "dev", option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(option, Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out.Trim());
    }

    [Theory]
    [InlineData("--chain", "http://127.0.0.1:1")]
    [InlineData("--deployment", "d.json")]
    public async Task Demo_ChainFlagsIncomplete_ExitsTwo(string option, string value)
    {
        var result = await ConsoleRun.RunAsync("demo", option, value);

        Assert.Equal(2, result.ExitCode);
        StrictConsoleTests.AssertClean(Assert.Single(result.ErrorLines));
    }
}
