namespace PoIP.Hosting.DependencyInjection;

/// <summary>The EVM economic back end for a host (<see cref="PoIPServiceCollectionExtensions.AddEvmEconomics"/>). Validated at start.</summary>
public sealed class EvmEconomicsOptions
{
    /// <summary>The chain's JSON-RPC endpoint, e.g. <c>http://127.0.0.1:8545</c>.</summary>
    public string RpcUrl { get; set; } = string.Empty;

    /// <summary>The deployed PoIPLedger contract (0x address).</summary>
    public string ContractAddress { get; set; } = string.Empty;

    /// <summary>This host's chain account (secp256k1 private key, hex); it acts for the host's peer id.</summary>
    public string AccountPrivateKey { get; set; } = string.Empty;

    /// <summary>Limit of every chain call (default 30 s).</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Receipt polling interval (default 50 ms).</summary>
    public TimeSpan ReceiptPollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Blocks on top of a transaction or an identity binding before it counts (default 0; 0 to 64).</summary>
    public int ConfirmationDepth { get; set; }

    /// <summary>
    /// A development chain (Anvil): the host's account gets the native coin it needs for gas and for
    /// dev funding with <c>anvil_setBalance</c> (default false: the account must hold coin already).
    /// </summary>
    public bool DevChain { get; set; }
}
