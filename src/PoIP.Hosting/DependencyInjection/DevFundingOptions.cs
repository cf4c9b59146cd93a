using PoIP.Core.Money;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// Local development only: before a role starts, mint into its own ledger account and stake, so a
/// hand-started network works without a faucet. Every operation is idempotent by an id derived from
/// the identity and the amounts, and tops up only what is missing.
/// </summary>
public sealed class DevFundingOptions
{
    /// <summary>Balance the account is topped up to (minted). Default 1000 tokens.</summary>
    public TokenAmount Balance { get; set; } = TokenAmount.FromTokens(1000);

    /// <summary>Bonded stake the account is topped up to (taken from the balance). Default: none.</summary>
    public TokenAmount Stake { get; set; } = TokenAmount.Zero;

    /// <summary>Register as a validator (needs the minimum stake bonded). Default false.</summary>
    public bool RegisterValidator { get; set; }
}
