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
    public static async Task<EvmStakeManager> ConnectAsync(EvmEconomicsOptions options, Ed25519KeyPair self, CancellationToken cancellationToken)
    {
        var managerOptions = ToManagerOptions(options);
        managerOptions.Accounts.Add(self.PeerId, options.AccountPrivateKey);
        EvmStakeManager? manager = null;
        try
        {
            // Once, when the host starts (EvmConnection); every call is bounded by CallTimeout.
            manager = await EvmStakeManager.ConnectAsync(managerOptions, cancellationToken).ConfigureAwait(false);
            await manager.EnsureBoundAsync(self, cancellationToken).ConfigureAwait(false);
            return manager;
        }
        catch (Exception ex) when (ex is TimeoutException or ArgumentException or InvalidOperationException or HttpRequestException or Nethereum.JsonRpc.Client.RpcClientUnknownException or Nethereum.JsonRpc.Client.RpcResponseException)
        {
            manager?.Dispose();
            throw new PoIPStartupException("hosting.chain_unavailable", $"The chain at {options.RpcUrl} is not usable: {ex.Message}");
        }
    }
}

/// <summary>A connection the host makes, without blocking, once its identity is known and before it resolves its services.</summary>
internal interface IStartupConnection
{
    Task ConnectAsync(Ed25519KeyPair self, CancellationToken cancellationToken);
}

/// <summary>
/// The host's <see cref="EvmStakeManager"/>, connected by <see cref="PoIPHostedService"/> at start
/// (awaited, never blocked on); resolving it before the host started is a misuse.
/// </summary>
internal sealed class EvmConnection(Microsoft.Extensions.Options.IOptions<EvmEconomicsOptions> options) : IStartupConnection
{
    private EvmStakeManager? _manager;

    /// <summary>The connected ledger (owned by the service container, which disposes it).</summary>
    public EvmStakeManager Manager => _manager ?? throw new InvalidOperationException("The PoIP host has not started yet: the EVM ledger connects when it starts.");

    public async Task ConnectAsync(Ed25519KeyPair self, CancellationToken cancellationToken)
    {
        _manager ??= await EvmEconomics.ConnectAsync(options.Value, self, cancellationToken).ConfigureAwait(false);
    }
}
