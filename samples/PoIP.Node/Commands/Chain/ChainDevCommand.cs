using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Runtime.InteropServices;
using PoIP.Economics.Evm;
using PoIP.Testing.Chain;
using PoIP.Testing.LocalNetwork;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands.Chain;

internal sealed class ChainDevSettings : CommandSettings
{
    [CommandOption("--out <FILE>")]
    [Description("Where to write the deployment file (chain id, contract address and ABI, development accounts). Default ./deployment.json")]
    public string Out { get; init; } = "deployment.json";

    [CommandOption("--accounts <N>")]
    [Description("Development accounts to fund with 10000 coins each and list in the deployment file (1-100). Default 4.")]
    public int Accounts { get; init; } = 4;

    [CommandOption("--host <ADDR>")]
    [Description("IP address the RPC listens on (an address of this host: 0.0.0.0 or :: for all). Default 127.0.0.1: loopback only unless told otherwise.")]
    public string Host { get; init; } = "127.0.0.1";

    [CommandOption("--dispute-window <SECONDS>")]
    [Description("The deployed ledger's dispute window: how long after a receipt its payment can be claimed (60-604800, the ledger's bounds). Default 60.")]
    public int DisputeWindow { get; init; } = 60;

    [CommandOption("--block-time <SECONDS>")]
    [Description("Mine a block every SECONDS (0.05-60; fractions allowed) holding every transaction sent meanwhile, as a real chain does. Default 0: a block per transaction, mined at once.")]
    public double BlockTime { get; init; }

    public override ValidationResult Validate() =>
        BlockTime != 0 && (double.IsNaN(BlockTime) || BlockTime < 0.05 || BlockTime > 60) ? ValidationResult.Error("--block-time must be 0 (a block per transaction) or 0.05 to 60 seconds.")
        : DisputeWindow is < 60 or > 604_800 ? ValidationResult.Error("--dispute-window must be 60 to 604800 seconds (the ledger's bounds).")
        : !IPAddress.TryParse(Host, out _) || Host.Contains('%', StringComparison.Ordinal) ? ValidationResult.Error($"--host must be an IP address, e.g. 127.0.0.1 or 10.0.0.2 (got '{Host}').")
        : Accounts is < 1 or > 100 ? ValidationResult.Error("--accounts must be 1 to 100.")
        : string.IsNullOrWhiteSpace(Out) ? ValidationResult.Error("--out needs a file name.")
        : !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(Out))) ? ValidationResult.Error($"--out: folder of '{Out}' does not exist.")
        : Directory.Exists(Out) ? ValidationResult.Error($"--out: '{Out}' is a folder.")
        : ValidationResult.Success();
}

/// <summary>
/// <c>poip chain dev</c>: a local development chain. Installs Anvil on first use (npm, from the lock
/// shipped beside this program), starts it on 127.0.0.1 (or <c>--host ADDR</c>) and a free port, deploys PoIPLedger with the
/// local network's parameters (one-minute dispute window unless <c>--dispute-window</c>, minimum stake 100; a block per
/// transaction unless <c>--block-time</c>), funds development
/// accounts, prints the RPC URL (the first line of standard output), writes the deployment file, and
/// runs until SIGINT or SIGTERM. Anvil never outlives it: it runs under a wrapper that stops it when
/// this process ends, however it ends.
/// </summary>
internal sealed class ChainDevCommand : AsyncCommand<ChainDevSettings>
{
    public static readonly BigInteger DevAccountCoins = BigInteger.Pow(10, 22); // 10,000 coins

    public override async Task<int> ExecuteAsync(CommandContext context, ChainDevSettings settings, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Stop(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        await Console.Error.WriteLineAsync("starting Anvil (installed with npm on first use)…");
        await using var anvil = await AnvilProcess.StartOnAsync(IPAddress.Parse(settings.Host), accounts: 1, settings.BlockTime > 0 ? ["--block-time", settings.BlockTime.ToString("0.###", CultureInfo.InvariantCulture)] : null, stop.Token);
        var deployment = await DeployAsync(anvil.RpcUrl, settings.Accounts, stop.Token, TimeSpan.FromSeconds(settings.DisputeWindow));
        deployment.Save(Path.GetFullPath(settings.Out));

        Console.WriteLine(anvil.RpcUrl.ToString().TrimEnd('/'));
        await Console.Out.FlushAsync(stop.Token);
        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"dev chain {deployment.ChainId} at {anvil.RpcUrl.ToString().TrimEnd('/')}: {ChainDeployment.LedgerName} at {deployment.Ledger}; {deployment.DevAccounts.Count} development accounts funded; deployment written to {Path.GetFullPath(settings.Out)}. Ctrl+C to stop."));
        try
        {
            await anvil.Exited.WaitAsync(stop.Token);
            await Console.Error.WriteLineAsync("error: the chain (anvil) exited on its own.");
            return ExitCodes.Fault;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("stopping the dev chain.");
            return ExitCodes.Ok;
        }
    }

    /// <summary>Deploys PoIPLedger from a fresh funded deployer and funds <paramref name="accounts"/> development accounts.</summary>
    internal static async Task<ChainDeployment> DeployAsync(Uri rpcUrl, int accounts, CancellationToken cancellationToken, TimeSpan? disputeWindow = null)
    {
        var control = new DevChainControl(rpcUrl);
        string deployer = EvmAccounts.NewPrivateKey();
        await control.SetBalanceAsync(EvmAccounts.AddressOf(deployer), DevAccountCoins, cancellationToken);
        string contract = await EvmStakeManager.DeployAsync(rpcUrl, deployer, LocalNetworkOptions.DevParameters with { DisputeWindow = disputeWindow ?? LocalNetworkOptions.DevParameters.DisputeWindow }, requireRegisteredValidator: true, cancellationToken: cancellationToken);
        var funded = new List<(string, string)>();
        for (int i = 0; i < accounts; i++)
        {
            string key = EvmAccounts.NewPrivateKey();
            string address = EvmAccounts.AddressOf(key);
            await control.SetBalanceAsync(address, DevAccountCoins, cancellationToken);
            funded.Add((address, key));
        }

        var chainId = await control.RpcAsync<string>("eth_chainId", [], cancellationToken);
        return new ChainDeployment(BigInteger.Parse("0" + chainId[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture), contract, funded, rpcUrl.ToString().TrimEnd('/'));
    }
}
