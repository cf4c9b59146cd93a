using System.ComponentModel;
using System.Numerics;
using PoIP.Economics.Evm;
using PoIP.Economics.Parameters;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands.Chain;

internal sealed class ChainDeploySettings : CommandSettings
{
    [CommandOption("--rpc <URL>")]
    [Description("The chain's JSON-RPC URL (http or https).")]
    public string Rpc { get; init; } = string.Empty;

    [CommandOption("--key <FILE>")]
    [Description("The deployer's chain key file (hex secp256k1 private key); its account pays the gas.")]
    public string Key { get; init; } = string.Empty;

    [CommandOption("--out <FILE>")]
    [Description("Where to write the deployment file (chain id, contract address and ABI).")]
    public string Out { get; init; } = string.Empty;

    [CommandOption("--json")]
    [Description("Print one JSON line (chain_id, address, out).")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Rpc) ? ValidationResult.Error("--rpc URL is required.")
        : !Uri.TryCreate(Rpc, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) ? ValidationResult.Error($"--rpc must be an http(s) URL (got '{Rpc}').")
        : string.IsNullOrWhiteSpace(Key) ? ValidationResult.Error("--key FILE is required.")
        : !File.Exists(Key) ? ValidationResult.Error($"--key: chain key file '{Key}' not found.")
        : string.IsNullOrWhiteSpace(Out) ? ValidationResult.Error("--out FILE is required.")
        : !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(Out))) ? ValidationResult.Error($"--out: folder of '{Out}' does not exist.")
        : Directory.Exists(Out) ? ValidationResult.Error($"--out: '{Out}' is a folder.")
        : ValidationResult.Success();
}

/// <summary><c>poip chain deploy</c>: deploys PoIPLedger (default parameters) to a chain from a key file's account and writes the deployment file.</summary>
internal sealed class ChainDeployCommand : AsyncCommand<ChainDeploySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ChainDeploySettings settings, CancellationToken cancellationToken)
    {
        string key = ChainKeyFile.Read(settings.Key); // malformed: exit 2 before any chain call
        var url = new Uri(settings.Rpc);
        string contract;
        BigInteger chainId;
        try
        {
            contract = await EvmStakeManager.DeployAsync(url, key, EconomicParameters.Default, requireRegisteredValidator: true, timeout: TimeSpan.FromSeconds(60), cancellationToken: cancellationToken);
            using var manager = await EvmStakeManager.ConnectAsync(new EvmStakeManagerOptions { RpcUrl = url, ContractAddress = contract }, cancellationToken);
            chainId = manager.ChainId;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Nethereum.JsonRpc.Client.RpcClientUnknownException)
        {
            throw new InvalidOperationException($"the chain at {settings.Rpc} is not reachable: {ex.Message}", ex);
        }

        var deployment = new ChainDeployment(chainId, contract, [], url.ToString().TrimEnd('/'));
        deployment.Save(Path.GetFullPath(settings.Out));
        if (settings.Json)
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["chain_id"] = (long)chainId, ["address"] = contract, ["out"] = Path.GetFullPath(settings.Out) }));
        }
        else
        {
            AnsiConsole.MarkupLine($"deployed {Markup.Escape(deployment.ToString())}; deployment written to {Markup.Escape(Path.GetFullPath(settings.Out))}");
        }

        return ExitCodes.Ok;
    }
}
