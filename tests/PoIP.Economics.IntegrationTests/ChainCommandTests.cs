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

    [Fact]
    public async Task Roles_OnChainDev_SeparateProcesses_AnswerAuditedAndEscrowedOnChain_LedgerShowReadsIt()
    {
        string stories = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");
        string deployment = Path.Combine(_directory, "deployment.json");
        var processes = new List<Process>();
        try
        {
            var dev = Track(processes, PoipCli.Start("chain", "dev", "--out", deployment, "--accounts", "1"));
            string url = (await ReadUrlAsync(dev)).ToString().TrimEnd('/');
            string[] chainFlags = ["--chain", url, "--deployment", deployment, "--dev"];
            var node = Track(processes, PoipCli.Start(["node", "run", .. chainFlags, "--key", Key("node"), "--model", stories, "--max-tokens", "16", "--stop-on-stdin-close"]));
            var validator = Track(processes, PoipCli.Start(["validator", "run", .. chainFlags, "--key", Key("validator"), "--audit-p", "1", "--model", stories, "--stop-on-stdin-close"]));
            string nodeAddress = await FirstLineAsync(node);
            string validatorAddress = await FirstLineAsync(validator);

            var (code, stdout, stderr) = await PoipCli.RunAsync(TimeSpan.FromMinutes(3), ["client", "ask", .. chainFlags, "--key", Key("client"), "--model", stories, "--max-tokens", "16", "--json", "--peer", nodeAddress, "--validator", validatorAddress, "Once upon a time"]);
            Assert.True(code == 0, stderr);
            using var answer = JsonDocument.Parse(stdout.Split('\n')[0]);
            Assert.Equal("Valid", answer.RootElement.GetProperty("verdict").GetString());
            Assert.Equal(nodeAddress.Split("/p2p/")[1], answer.RootElement.GetProperty("node").GetString());
            Assert.True(File.Exists(Path.Combine(_directory, "node.chain.key")), "the node's chain key sits beside its identity key");

            // Another process, holding no key, reads the escrow on chain through the node's binding.
            var (shown, json, error) = await PoipCli.RunAsync(TimeSpan.FromMinutes(1), "ledger", "show", "--chain", url, "--deployment", deployment, "--key", Key("node"), "--key", Key("client"), "--json");
            Assert.True(shown == 0, error);
            using var ledger = JsonDocument.Parse(json);
            Assert.True(ledger.RootElement.GetProperty("conserved").GetBoolean());
            Assert.True(ledger.RootElement.GetProperty("contract_holds_supply").GetBoolean());
            Assert.Equal("0.016", ledger.RootElement.GetProperty("escrowed").GetString()); // the cap: 16 tokens at 0.001, open until the window passes
            var accounts = ledger.RootElement.GetProperty("accounts").EnumerateArray().ToList();
            Assert.Equal("200", accounts[0].GetProperty("bonded").GetString());
            Assert.True(accounts[0].GetProperty("may_serve").GetBoolean());

            foreach (var server in new[] { node, validator })
            {
                server.StandardInput.Close();
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await server.WaitForExitAsync(limit.Token);
                Assert.Equal(0, server.ExitCode);
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: false); // the console alone: its Anvil wrapper stops the chain and removes its folder
                }

                process.Dispose();
            }
        }
    }

    private string Key(string name) => Path.Combine(_directory, name + ".key");

    private static Process Track(List<Process> processes, Process process)
    {
        processes.Add(process);
        return process;
    }

    private static async Task<string> FirstLineAsync(Process server)
    {
        _ = server.StandardError.ReadToEndAsync(); // drained
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string? line = await server.StandardOutput.ReadLineAsync(deadline.Token);
        Assert.False(string.IsNullOrEmpty(line), "the role printed no multiaddr");
        return line;
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
