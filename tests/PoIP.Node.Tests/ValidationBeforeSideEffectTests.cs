using PoIP.Core.Identity;
using PoIP.Network;
using PoIP.Network.Addressing;

namespace PoIP.Node.Tests;

/// <summary>Regression tests: options are validated before any side effect.</summary>
public sealed class ValidationBeforeSideEffectTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-node-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task NodeRun_ModelNotGguf_ExitsTwoBeforeMintingOrCreatingKey()
    {
        string model = Path.Combine(_directory, "bad.gguf");
        await File.WriteAllTextAsync(model, "not a model");
        string ledger = Path.Combine(_directory, "ledger.db");
        string key = Path.Combine(_directory, "node.key");

        var result = await ConsoleRun.RunAsync("node", "run", "--model", model, "--ledger", ledger, "--key", key, "--dev");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: --model", line, StringComparison.Ordinal);
        StrictConsoleTests.AssertClean(line);
        Assert.False(File.Exists(ledger), "no ledger was created (nothing minted or staked)");
        Assert.False(File.Exists(key), "no key was created");
    }

    [Theory]
    [InlineData("--duration", "3s", "error: --duration")]
    [InlineData("--duration", "ten", "error: --duration")]
    [InlineData("--clients", "0", "error: --clients")]
    [InlineData("--nodes", "17", "error: --nodes")]
    [InlineData("--wiring", "dht", "error: --wiring")]
    [InlineData("--block-time", "0.01", "error: --block-time")]
    [InlineData("--block-time", "fast", "error: --block-time")]
    public async Task Soak_BadOption_ExitsTwoBeforeCreatingAnything(string option, string value, string expected)
    {
        string data = Path.Combine(_directory, "soak");

        var result = await ConsoleRun.RunAsync("soak", option, value, "--data", data);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith(expected, line, StringComparison.Ordinal);
        StrictConsoleTests.AssertClean(line);
        Assert.False(Directory.Exists(data), "no folder, ledger or process was created");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("86401")]
    [InlineData("soon")]
    public async Task GatewayRun_BadReclaimEvery_ExitsTwoBeforeListening(string value)
    {
        var result = await ConsoleRun.RunAsync("gateway", "run", "--http", "127.0.0.1:0", "--peer", "/ip4/127.0.0.1/tcp/1", "--reclaim-every", value);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("--reclaim-every", line, StringComparison.Ordinal);
        StrictConsoleTests.AssertClean(line);
    }

    [Theory]
    [InlineData("90", 90)]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1.5h", 5400)]
    public void SoakDuration_Parse_Seconds(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Commands.Soak.SoakSettings.ParseDuration(text));

    [Fact]
    public async Task P2pPing_CountZero_ExitsTwoWithoutDialing()
    {
        using var key = Ed25519KeyPair.Generate();
        var options = new Libp2pHostOptions { Key = key };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        await using var listener = Libp2pHost.Create(options);
        int connections = 0;
        listener.ConnectionOpened += (_, _) => Interlocked.Increment(ref connections);
        await listener.StartAsync();

        var result = await ConsoleRun.RunAsync("p2p", "ping", listener.ListenAddresses[0].ToString(), "--count", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--count", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Equal(0, Volatile.Read(ref connections));
        Assert.DoesNotContain("ping 1", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimCheating_ZeroRounds_ExitsTwoWithoutConcluding()
    {
        var result = await ConsoleRun.RunAsync("sim", "cheating", "--rounds", "0", "--json");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--rounds", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out.Trim());
    }

    [Fact]
    public async Task SimCheating_MoreLazyThanValidators_ExitsTwoWithoutConcluding()
    {
        var result = await ConsoleRun.RunAsync("sim", "cheating", "--validators", "3", "--lazy", "4", "--json");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--lazy", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out.Trim());
    }

    [Fact]
    public async Task SimCheating_Validators_JsonSaysLazinessLosesAtDefaultPlantRate()
    {
        var result = await ConsoleRun.RunAsync("sim", "cheating", "--nodes", "10", "--cheaters", "1", "--rounds", "20000", "--validators", "20", "--lazy", "10", "--json");

        Assert.Equal(0, result.ExitCode);
        using var json = System.Text.Json.JsonDocument.Parse(result.Out);
        var validators = json.RootElement.GetProperty("validators");
        Assert.True(validators.GetProperty("laziness_loses").GetBoolean(), result.Out);
        Assert.True(validators.GetProperty("lazy_caught").GetInt64() > 0);
        Assert.True(validators.GetProperty("lying_loses").GetBoolean(), result.Out);
    }

    [Fact]
    public async Task Identity_NewKeyFile_SaysItCreatedOnlyTheFirstTime()
    {
        string key = Path.Combine(_directory, "id.key");

        var first = await ConsoleRun.RunAsync("identity", "--key", key, "--json");
        var second = await ConsoleRun.RunAsync("identity", "--key", key, "--json");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("\"created\":true", first.Out, StringComparison.Ordinal);
        Assert.Contains("\"created\":false", second.Out, StringComparison.Ordinal);
        Assert.Single(first.Out.Trim().Split('\n'));
    }
}
