namespace PoIP.Node.Tests;

/// <summary>The DHT flags (<c>--bootstrap</c>, <c>--dht-protocol</c>, <c>dht records</c>) are checked before any side effect.</summary>
public sealed class DhtOptionsTests : IDisposable
{
    private const string GoodPeer = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-dht-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("abc", "not a request id")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "--bootstrap is required")]
    public async Task DhtRecords_BadRequestIdOrNoBootstrap_ExitsTwo(string requestId, string expected)
    {
        var result = await ConsoleRun.RunAsync("dht", "records", requestId);
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        StrictConsoleTests.AssertClean(line);
    }

    [Fact]
    public async Task DhtRecords_BootstrapWithoutPeerId_ExitsTwo()
    {
        var result = await ConsoleRun.RunAsync("dht", "records", new string('a', 64), "--bootstrap", "/ip4/127.0.0.1/tcp/4001");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("/p2p/", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DhtRecords_BadProtocol_ExitsTwo()
    {
        var result = await ConsoleRun.RunAsync("dht", "records", new string('a', 64), "--bootstrap", GoodPeer, "--protocol", "kad");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--protocol", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientAsk_BadBootstrap_ExitsTwoBeforeCreatingKeyOrLedger()
    {
        string ledger = Path.Combine(_directory, "ledger.db");
        string key = Path.Combine(_directory, "client.key");
        var result = await ConsoleRun.RunAsync("client", "ask", "hello", "--bootstrap", "/ip4/127.0.0.1/tcp/1", "--ledger", ledger, "--key", key, "--dev");
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: --bootstrap", line, StringComparison.Ordinal);
        Assert.False(File.Exists(ledger));
        Assert.False(File.Exists(key));
    }

    [Theory]
    [InlineData("node")]
    [InlineData("validator")]
    public async Task RoleRun_BadDhtProtocol_ExitsTwoBeforeCreatingKey(string role)
    {
        string key = Path.Combine(_directory, role + ".key");
        var result = await ConsoleRun.RunAsync(role, "run", "--dht", "--dht-protocol", "no slash", "--ledger", Path.Combine(_directory, "l.db"), "--key", key);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--dht-protocol", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.False(File.Exists(key));
    }
}
