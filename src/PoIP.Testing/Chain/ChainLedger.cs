using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Evm;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Testing.Chain;

/// <summary>
/// A local network's money on a development chain (Anvil): PoIPLedger through one
/// <see cref="EvmStakeManager"/> whose key ring holds every role's account (each bound on chain to
/// its peer id, funded with <c>anvil_setBalance</c>, then deposited). Dispute windows pass with
/// <c>evm_increaseTime</c>; the self-check is that the contract holds exactly its supply.
/// </summary>
public sealed class ChainLedger : ILocalNetworkLedger
{
    private readonly EvmStakeManager _manager;
    private readonly DevChainControl _control;
    private readonly IAsyncDisposable? _owned;

    private ChainLedger(EvmStakeManager manager, DevChainControl control, IAsyncDisposable? owned)
    {
        _manager = manager;
        _control = control;
        _owned = owned;
    }

    /// <summary>The manager (its key ring holds every role's account).</summary>
    public EvmStakeManager Manager => _manager;

    /// <inheritdoc />
    public IStakeManager Stakes => _manager;

    /// <inheritdoc />
    public string CheckName => "contract coin = supply";

    /// <summary>Connects to PoIPLedger at <paramref name="contract"/>; disposes <paramref name="owned"/> (e.g. the Anvil process) with itself.</summary>
    /// <exception cref="InvalidOperationException">The chain is not a development chain (its clock cannot be moved, accounts cannot be funded).</exception>
    public static async Task<ChainLedger> ConnectAsync(Uri rpcUrl, string contract, IAsyncDisposable? owned = null, CancellationToken cancellationToken = default)
    {
        var control = new DevChainControl(rpcUrl);
        if (!await control.IsDevChainAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"The chain at {rpcUrl} is not a development chain (no anvil_* methods): the demo moves its clock and funds accounts.");
        }

        var manager = await EvmStakeManager.ConnectAsync(new EvmStakeManagerOptions
        {
            RpcUrl = rpcUrl,
            ContractAddress = contract,
            Accounts = new EvmAccounts(),
            ReceiptPollInterval = TimeSpan.FromMilliseconds(2),
            DevChain = true,
        }, cancellationToken).ConfigureAwait(false);
        return new ChainLedger(manager, control, owned);
    }

    /// <inheritdoc />
    public async Task OpenAccountAsync(Ed25519KeyPair identity, TokenAmount deposit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        _manager.Accounts.Add(identity.PeerId, EvmAccounts.NewPrivateKey());
        await _manager.EnsureBoundAsync(identity, cancellationToken).ConfigureAwait(false);
        LocalNetwork.LocalNetwork.Require(await _manager.DepositAsync(OperationId.New(), identity.PeerId, deposit, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public Task AdvanceAsync(TimeSpan by, CancellationToken cancellationToken) => _control.AdvanceTimeAsync(by, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> CheckAsync(CancellationToken cancellationToken)
    {
        var totals = await _manager.GetTotalsAsync(cancellationToken).ConfigureAwait(false);
        return await _manager.GetContractBalanceAsync(cancellationToken).ConfigureAwait(false) == totals.Supply;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _manager.Dispose();
        if (_owned is not null)
        {
            await _owned.DisposeAsync().ConfigureAwait(false);
        }
    }
}
