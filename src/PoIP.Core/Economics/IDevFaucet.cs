using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Core.Economics;

/// <summary>
/// Development ledgers only (the embedded ledger's journaled mint, a local chain's pre-funded
/// accounts): gives an account free balance so a hand-started network works without a real on-ramp.
/// A production back end does not implement it.
/// </summary>
public interface IDevFaucet
{
    /// <summary>Adds <paramref name="amount"/> to <paramref name="account"/>'s free balance, creating the account.</summary>
    Task<EconomicResult> DepositAsync(OperationId operation, PeerId account, TokenAmount amount, CancellationToken cancellationToken = default);
}
