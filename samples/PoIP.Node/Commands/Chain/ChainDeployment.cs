using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using PoIP.Economics.Evm;

namespace PoIP.Node.Commands.Chain;

/// <summary>
/// The deployment file <c>poip chain dev</c> and <c>poip chain deploy</c> write and every role reads
/// (<c>--deployment FILE</c>): the chain id, and per contract its address and ABI; a development
/// chain also lists its funded development accounts. At most 4 MiB.
/// </summary>
/// <param name="ChainId">The chain id the contracts live on.</param>
/// <param name="Ledger">The PoIPLedger contract's address.</param>
/// <param name="DevAccounts">Funded development accounts (address, private key); empty outside <c>chain dev</c>.</param>
/// <param name="RpcUrl">The RPC URL it was deployed through (informational: roles take <c>--chain URL</c>).</param>
internal sealed record ChainDeployment(BigInteger ChainId, string Ledger, IReadOnlyList<(string Address, string PrivateKey)> DevAccounts, string? RpcUrl)
{
    public const string LedgerName = "PoIPLedger";
    private const int MaxBytes = 4 << 20;

    /// <summary>Reads and checks a deployment file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Too large, not JSON, or a field missing or malformed.</exception>
    public static ChainDeployment Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"deployment file '{path}' not found.", path);
        }

        if (info.Length > MaxBytes)
        {
            throw new InvalidDataException($"deployment file '{path}' is larger than 4 MiB.");
        }

        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException("not a JSON object.");
            var chainId = root["chain_id"]?.GetValue<long>() ?? throw new InvalidDataException("no chain_id.");
            string address = root["contracts"]?[LedgerName]?["address"]?.GetValue<string>() ?? throw new InvalidDataException($"no contracts.{LedgerName}.address.");
            if (chainId <= 0 || !IsAddress(address))
            {
                throw new InvalidDataException("chain_id must be positive and the address a 20-byte 0x address.");
            }

            var accounts = new List<(string, string)>();
            foreach (var account in root["dev_accounts"]?.AsArray() ?? [])
            {
                accounts.Add((account?["address"]?.GetValue<string>() ?? string.Empty, account?["private_key"]?.GetValue<string>() ?? string.Empty));
            }

            return new ChainDeployment(chainId, address, accounts, root["rpc_url"]?.GetValue<string>());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"deployment file '{path}': {ex.Message}", ex);
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith("deployment file", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"deployment file '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>Writes the file (the ABI is the compiled contract's), through a temporary file and a rename.</summary>
    public void Save(string path)
    {
        var root = new JsonObject
        {
            ["chain_id"] = (long)ChainId,
            ["rpc_url"] = RpcUrl,
            ["contracts"] = new JsonObject
            {
                [LedgerName] = new JsonObject
                {
                    ["address"] = Ledger,
                    ["compiler"] = LedgerArtifact.Compiler,
                    ["abi"] = JsonNode.Parse(LedgerArtifact.Abi),
                },
            },
        };
        if (DevAccounts.Count > 0)
        {
            root["dev_accounts"] = new JsonArray([.. DevAccounts.Select(a => (JsonNode)new JsonObject { ["address"] = a.Address, ["private_key"] = a.PrivateKey })]);
        }

        string temporary = path + ".tmp";
        File.WriteAllText(temporary, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
        File.Move(temporary, path, overwrite: true);
    }

    private static bool IsAddress(string text) => text.Length == 42 && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && text[2..].All(Uri.IsHexDigit);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{LedgerName} {Ledger} on chain {ChainId}");
}
