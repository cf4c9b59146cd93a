using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Testing.LocalNetwork;

/// <summary>
/// Where a <see cref="LocalNetwork"/> keeps its money: the embedded SQLite ledger (default) or a
/// development chain (<c>PoIP.Testing.Chain.ChainLedger</c>). The network drives it: genesis
/// deposits, a clock it can move past dispute windows, and a self-check at the end.
/// </summary>
public interface ILocalNetworkLedger : IAsyncDisposable
{
    /// <summary>The ledger every role of the network uses.</summary>
    IStakeManager Stakes { get; }

    /// <summary>What the self-check verifies (shown beside its result).</summary>
    string CheckName { get; }

    /// <summary>Opens <paramref name="identity"/>'s account and gives it <paramref name="deposit"/> of free balance.</summary>
    Task OpenAccountAsync(Ed25519KeyPair identity, TokenAmount deposit, CancellationToken cancellationToken);

    /// <summary>Moves the ledger's clock forward by at least <paramref name="by"/>.</summary>
    Task AdvanceAsync(TimeSpan by, CancellationToken cancellationToken);

    /// <summary>The ledger's own consistency check (embedded: the journal rebuilds the tables; chain: the contract's coin equals its supply).</summary>
    Task<bool> CheckAsync(CancellationToken cancellationToken);
}
