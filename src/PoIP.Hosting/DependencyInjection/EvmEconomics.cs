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
        ConfirmationDepth = options.ConfirmationDepth,
        DevChain = options.DevChain,
    };

    /// <summary>
    /// Connects and binds the host's peer id to its account on chain (once; so other parties can find
    /// the account from the peer id).
    /// </summary>
    /// <exception cref="PoIPStartupException">The chain cannot be reached, holds no ledger there, or refused the binding.</exception>
    public static EvmStakeManager Connect(EvmEconomicsOptions options, Ed25519KeyPair self)
    {
        var managerOptions = ToManagerOptions(options);
        managerOptions.Accounts.Add(self.PeerId, options.AccountPrivateKey);
        EvmStakeManager? manager = null;
        try
        {
            // Resolved once, when the host starts; every call is bounded by CallTimeout.
            manager = EvmStakeManager.ConnectAsync(managerOptions).GetAwaiter().GetResult();
            manager.EnsureBoundAsync(self).GetAwaiter().GetResult();
            return manager;
        }
        catch (Exception ex) when (ex is TimeoutException or ArgumentException or InvalidOperationException or HttpRequestException or Nethereum.JsonRpc.Client.RpcClientUnknownException or Nethereum.JsonRpc.Client.RpcResponseException)
        {
            manager?.Dispose();
            throw new PoIPStartupException("hosting.chain_unavailable", $"The chain at {options.RpcUrl} is not usable: {ex.Message}");
        }
    }
}
