using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Testing.Economics;

/// <summary>What a back end provides so the contract suite can drive it: a fresh manager, money, time and validators.</summary>
public interface IStakeManagerHarness : IAsyncDisposable
{
    /// <summary>The manager under test (fresh, empty ledger).</summary>
    IStakeManager Manager { get; }

    /// <summary>The parameters it runs with.</summary>
    StakeManagerContractParameters Parameters { get; }

    /// <summary>Gives <paramref name="account"/> <paramref name="amount"/> of free balance (faucet, mint or token transfer), creating the account.</summary>
    Task FundAsync(PeerId account, TokenAmount amount);

    /// <summary>Moves the back end's clock forward.</summary>
    Task AdvanceTimeAsync(TimeSpan by);

    /// <summary>Makes <paramref name="validator"/> a validator whose fraud verdicts slash (funding and staking it as the back end requires).</summary>
    Task RegisterValidatorAsync(PeerId validator);
}
