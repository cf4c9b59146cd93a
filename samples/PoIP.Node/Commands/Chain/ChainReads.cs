using PoIP.Economics.Embedded;
using PoIP.Economics.Evm;

namespace PoIP.Node.Commands.Chain;

/// <summary>Read-only access to PoIPLedger for <c>poip ledger show --chain</c> (no key ring: peers are found from their on-chain bindings).</summary>
internal static class ChainReads
{
    /// <summary>Connects, checking the chain id against the deployment file.</summary>
    /// <exception cref="InvalidOperationException">The chain is not the deployment's or cannot be reached.</exception>
    public static async Task<EvmStakeManager> ConnectAsync(Uri rpcUrl, ChainDeployment deployment, CancellationToken cancellationToken)
    {
        EvmStakeManager manager;
        try
        {
            manager = await EvmStakeManager.ConnectAsync(new EvmStakeManagerOptions { RpcUrl = rpcUrl, ContractAddress = deployment.Ledger, CallTimeout = TimeSpan.FromSeconds(15) }, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or ArgumentException or Nethereum.JsonRpc.Client.RpcClientUnknownException)
        {
            throw new InvalidOperationException($"the chain at {rpcUrl} is not usable: {ex.Message}", ex);
        }

        if (manager.ChainId != deployment.ChainId)
        {
            manager.Dispose();
            throw new InvalidOperationException($"the chain at {rpcUrl} has id {manager.ChainId}, the deployment file says {deployment.ChainId}.");
        }

        return manager;
    }

    /// <summary>The chain's self-check in the journal check's shape: the contract's coin equals its supply (Operations = the block number read).</summary>
    public static async Task<JournalVerification> CheckAsync(EvmStakeManager manager, CancellationToken cancellationToken)
    {
        var totals = await manager.GetTotalsAsync(cancellationToken);
        var coin = await manager.GetContractBalanceAsync(cancellationToken);
        long block = (long)await manager.GetBlockNumberAsync(cancellationToken);
        return coin == totals.Supply
            ? new JournalVerification(true, block, string.Empty)
            : new JournalVerification(false, block, $"the contract holds {coin}, its supply is {totals.Supply}.");
    }
}
