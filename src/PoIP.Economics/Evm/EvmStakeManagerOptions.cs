namespace PoIP.Economics.Evm;

/// <summary>Options of the EVM economic back end (<see cref="EvmStakeManager"/>).</summary>
public sealed class EvmStakeManagerOptions
{
    /// <summary>The chain's JSON-RPC endpoint, e.g. <c>http://127.0.0.1:8545</c>.</summary>
    public Uri? RpcUrl { get; set; }

    /// <summary>The deployed PoIPLedger contract (0x-prefixed address).</summary>
    public string ContractAddress { get; set; } = string.Empty;

    /// <summary>The accounts this process acts with (see <see cref="EvmAccounts"/>).</summary>
    public EvmAccounts Accounts { get; set; } = new();

    /// <summary>Limit of every chain call, including waiting for a receipt (default 30 s).</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the chain's head is read while sent transactions wait for their block (one read per interval for all of them; default 50 ms; 2 ms suits Anvil).</summary>
    public TimeSpan ReceiptPollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Blocks on top of a transaction's block before its effect is reported (default 0: Anvil's instant finality).</summary>
    public int ConfirmationDepth { get; set; }

    /// <summary>
    /// A development chain (Anvil): deposits and <see cref="EvmStakeManager.EnsureBoundAsync"/> first give
    /// the acting account the native coin they need with <c>anvil_setBalance</c> (default false).
    /// </summary>
    public bool DevChain { get; set; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A missing or out-of-range value.</exception>
    public void Validate()
    {
        if (RpcUrl is null || (RpcUrl.Scheme != Uri.UriSchemeHttp && RpcUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("RpcUrl must be an http(s) URL.", nameof(RpcUrl));
        }

        if (!EvmAddress.IsValid(ContractAddress))
        {
            throw new ArgumentException($"ContractAddress '{ContractAddress}' is not a 20-byte 0x address.", nameof(ContractAddress));
        }

        ArgumentNullException.ThrowIfNull(Accounts);
        if (CallTimeout <= TimeSpan.Zero || ReceiptPollInterval <= TimeSpan.Zero || ReceiptPollInterval > CallTimeout)
        {
            throw new ArgumentException("CallTimeout and ReceiptPollInterval must be positive, the interval within the timeout.", nameof(CallTimeout));
        }

        if (ConfirmationDepth is < 0 or > 64)
        {
            throw new ArgumentException("ConfirmationDepth must be in [0, 64].", nameof(ConfirmationDepth));
        }
    }
}
