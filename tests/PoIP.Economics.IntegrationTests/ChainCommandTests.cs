using System.Diagnostics;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using PoIP.TestUtils;
using Xunit;

namespace PoIP.Economics.IntegrationTests;

/// <summary><c>poip chain dev</c> and <c>poip demo --chain dev</c> as a user runs them (<c>dotnet poip.dll ...</c>).</summary>
public sealed class ChainCommandTests : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-chain-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ChainDev_ConsoleKilled_AnvilDoesNotOutliveIt()
    {
        string deployment = Path.Combine(_directory, "deployment.json");
        using var console = PoipCli.Start("chain", "dev", "--out", deployment);
        try
        {
            var url = await ReadUrlAsync(console);
            Assert.Equal("0x7a69", await RpcAsync(url, "eth_chainId")); // Anvil's 31337
            using (var file = JsonDocument.Parse(await File.ReadAllTextAsync(deployment)))
            {
                var ledger = file.RootElement.GetProperty("contracts").GetProperty("PoIPLedger");
                Assert.Equal(31337, file.RootElement.GetProperty("chain_id").GetInt64());
                Assert.True(ledger.GetProperty("abi").GetArrayLength() > 10);
                Assert.True((await RpcAsync(url, "eth_getCode", ledger.GetProperty("address").GetString()!, "latest")).Length > 1000, "the ledger is deployed");
                Assert.Equal(4, file.RootElement.GetProperty("dev_accounts").GetArrayLength());
            }

            console.Kill(entireProcessTree: false); // SIGKILL the console alone: no handler runs
            await console.WaitForExitAsync();
            Assert.True(await StopsAnsweringAsync(url), "anvil still answers after its console was killed");
        }
        finally
        {
            if (!console.HasExited)
            {
                console.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task ChainDev_Sigterm_ExitsZeroAndStopsTheChain()
    {
        using var console = PoipCli.Start("chain", "dev", "--out", Path.Combine(_directory, "d.json"), "--accounts", "1");
        try
        {
            var url = await ReadUrlAsync(console);
            using (var kill = Process.Start("kill", ["-TERM", console.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await console.WaitForExitAsync(deadline.Token);
            Assert.Equal(0, console.ExitCode);
            Assert.True(await StopsAnsweringAsync(url));
        }
        finally
        {
            if (!console.HasExited)
            {
                console.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task DemoChainDev_CheaterSlashedOnChain_ConservedAndContractHoldsSupply()
    {
        var (code, stdout, stderr) = await PoipCli.RunAsync(TimeSpan.FromMinutes(5), "demo", "--chain", "dev", "--requests", "9", "--audit-p", "1", "--max-tokens", "12", "--json");

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var root = json.RootElement;
        Assert.Equal("chain", root.GetProperty("ledger").GetString());
        Assert.True(root.GetProperty("cheater_caught").GetBoolean());
        Assert.True(root.GetProperty("conserved").GetBoolean());
        Assert.True(root.GetProperty("contract_holds_supply").GetBoolean());
        var cheater = root.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("cheats").GetBoolean());
        Assert.True(decimal.Parse(cheater.GetProperty("stake_after").GetString()!, System.Globalization.CultureInfo.InvariantCulture) < decimal.Parse(cheater.GetProperty("stake_before").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(root.GetProperty("settled").GetInt32() > 0);
    }

    private static async Task<Uri> ReadUrlAsync(Process console)
    {
        _ = console.StandardError.ReadToEndAsync(); // drained
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // first use installs anvil with npm
        string? line = await console.StandardOutput.ReadLineAsync(deadline.Token);
        Assert.NotNull(line);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", line);
        return new Uri(line);
    }

    private static async Task<string> RpcAsync(Uri url, string method, params object[] parameters)
    {
        string body = JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 1, method, @params = parameters });
        using var response = await Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("result").GetString()!;
    }

    /// <summary>Polls (bounded, against an external process) until the chain refuses connections.</summary>
    private static async Task<bool> StopsAnsweringAsync(Uri url)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            try
            {
                await RpcAsync(url, "eth_chainId");
            }
            catch (HttpRequestException)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }
}
