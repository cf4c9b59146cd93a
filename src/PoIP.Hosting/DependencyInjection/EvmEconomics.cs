using PoIP.Core.Identity;
using PoIP.Economics.Evm;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>Connects a host to PoIPLedger with its own account acting for its peer id.</summary>
internal static class EvmEconomics
{
    public static EvmStakeManagerOptions ToManagerOptions(EvmEconomicsOptions options) => new()
    {
        RpcUrl = Uri.TryCreate(options.RpcUrl, UriKind.Absolute, out var url) ? url : null,
        ContractAddress = options.ContractAddress,
        CallTimeout = options.CallTimeout,
        ReceiptPollInterval = options.ReceiptPollInterval,
    };

    /// <exception cref="PoIPStartupException">The chain cannot be reached or holds no ledger there.</exception>
    public static EvmStakeManager Connect(EvmEconomicsOptions options, PeerId self)
    {
        var managerOptions = ToManagerOptions(options);
        managerOptions.Accounts.Add(self, options.AccountPrivateKey);
        try
        {
            // Resolved once, when the host starts; the connection check is bounded by CallTimeout.
            return EvmStakeManager.ConnectAsync(managerOptions).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is TimeoutException or ArgumentException or HttpRequestException or Nethereum.JsonRpc.Client.RpcClientUnknownException)
        {
            throw new PoIPStartupException("hosting.chain_unavailable", $"The chain at {options.RpcUrl} is not usable: {ex.Message}");
        }
    }
}
