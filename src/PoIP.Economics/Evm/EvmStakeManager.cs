using System.Buffers.Binary;
using System.Numerics;
using Nethereum.Signer;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Evm;

/// <summary>
/// The EVM economic back end: <see cref="IStakeManager"/> over the PoIPLedger contract
/// (Contracts/PoIPLedger.sol) through Nethereum. Amounts are wei of the chain's native currency.
/// Each peer id acts through the chain account <see cref="EvmStakeManagerOptions.Accounts"/> binds
/// to it; the contract enforces EIP-712 typed data signed by those accounts (receipts, verdicts),
/// while the Ed25519 envelopes are checked here, off chain, before anything is sent. A refusal is
/// found by simulating first and nothing is sent; a revert is reported with its custom error's name.
/// Every call has <see cref="EvmStakeManagerOptions.CallTimeout"/> (a <see cref="TimeoutException"/>)
/// and honours cancellation. Time is the chain's block time.
/// </summary>
public sealed partial class EvmStakeManager : IStakeManager, IDevFaucet, IDisposable
{
    private static readonly byte[] BindingTag = "poip-chain-binding/1"u8.ToArray();

    /// <summary>Native coin kept for gas when a development chain tops an account up (1 coin).</summary>
    private static readonly BigInteger GasReserve = BigInteger.Pow(10, 18);
    private readonly EvmChain _chain;
    private readonly EvmAccounts _accounts;
    private readonly Eip712Digests _digests;
    private readonly EvmIdentities _identities;
    private readonly bool _devChain;

    private EvmStakeManager(EvmChain chain, EvmAccounts accounts, int confirmationDepth, bool devChain)
    {
        _chain = chain;
        _accounts = accounts;
        _digests = new Eip712Digests(chain.ChainId, chain.Contract);
        _identities = new EvmIdentities(chain, accounts, confirmationDepth, (peer, account, deadline, signature) => IsBindingValid(peer, account, deadline, signature));
        _devChain = devChain;
    }

    /// <summary>The accounts this manager acts with.</summary>
    public EvmAccounts Accounts => _accounts;

    /// <summary>The chain id.</summary>
    public BigInteger ChainId => _chain.ChainId;

    /// <summary>The PoIPLedger contract.</summary>
    public string ContractAddress => _chain.Contract;

    /// <summary>Gas used by the last transaction this manager confirmed (benchmarks), or null.</summary>
    public BigInteger? LastGasUsed => _chain.LastReceipt?.GasUsed?.Value;

    /// <summary>Connects to a deployed PoIPLedger.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="TimeoutException">The chain did not answer.</exception>
    public static async Task<EvmStakeManager> ConnectAsync(EvmStakeManagerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var chain = await EvmChain.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            string code = await chain.ReadAsync(() => chain.Web3.Eth.GetCode.SendRequestAsync(options.ContractAddress), cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrEmpty(code) || code == "0x")
            {
                throw new ArgumentException($"No contract at {options.ContractAddress} on chain {chain.ChainId}.", nameof(options));
            }

            return new EvmStakeManager(chain, options.Accounts, options.ConfirmationDepth, options.DevChain);
        }
        catch
        {
            chain.Dispose();
            throw;
        }
    }

    /// <summary>Deploys PoIPLedger from <paramref name="deployerKey"/>'s account with <paramref name="parameters"/>; returns its address.</summary>
    /// <exception cref="ArgumentException">Invalid parameters or key.</exception>
    /// <exception cref="InvalidOperationException">The deployment was refused.</exception>
    public static async Task<string> DeployAsync(Uri rpcUrl, string deployerKey, EconomicParameters parameters, bool requireRegisteredValidator = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string? problem = parameters.Validate();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(parameters));
        }

        var key = new EthECKey(deployerKey.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? deployerKey[2..] : deployerKey);
        var options = new EvmStakeManagerOptions { RpcUrl = rpcUrl, ContractAddress = "0x" + new string('0', 40), CallTimeout = timeout ?? TimeSpan.FromSeconds(30), ReceiptPollInterval = TimeSpan.FromMilliseconds(5) };
        using var chain = await EvmChain.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        var values = parameters.ToValues();
        var arguments = new List<byte>();
        foreach (var parameter in Enum.GetValues<EconomicParameter>().OrderBy(p => (int)p))
        {
            arguments.AddRange(Eip712Digests.Word((BigInteger)values[parameter]));
        }

        arguments.AddRange(Eip712Digests.Word(requireRegisteredValidator ? 1 : 0));
        var result = await chain.SendDataAsync(key, null, LedgerArtifact.Bytecode + Convert.ToHexStringLower([.. arguments]), 0, cancellationToken).ConfigureAwait(false);
        if (!result.IsApplied || chain.LastReceipt?.ContractAddress is not { } address)
        {
            throw new InvalidOperationException("Deploying PoIPLedger failed: " + result.Detail);
        }

        return address;
    }

    /// <summary>
    /// The message a peer id's Ed25519 key signs to bind a chain account:
    /// <c>"poip-chain-binding/1" || chainId (32 bytes) || contract (20) || account (20) || deadline (8, big-endian seconds)</c>.
    /// </summary>
    public static byte[] BindingMessage(BigInteger chainId, string contract, string account, ulong deadline)
    {
        byte[] message = new byte[BindingTag.Length + 32 + 20 + 20 + 8];
        BindingTag.CopyTo(message, 0);
        Eip712Digests.Word(chainId).CopyTo(message, BindingTag.Length);
        Convert.FromHexString(contract[2..]).CopyTo(message, BindingTag.Length + 32);
        Convert.FromHexString(account[2..]).CopyTo(message, BindingTag.Length + 52);
        BinaryPrimitives.WriteUInt64BigEndian(message.AsSpan(BindingTag.Length + 72), deadline);
        return message;
    }

    /// <summary>
    /// Binds <paramref name="identity"/>'s peer id to the chain account the key ring holds for it:
    /// the Ed25519 key signs <see cref="BindingMessage"/>, the account sends it. The contract records it
    /// (it cannot check Ed25519); peers check the signature off chain (<see cref="IsBindingValid"/>).
    /// </summary>
    public async Task<EconomicResult> BindIdentityAsync(Ed25519KeyPair identity, TimeSpan validFor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (!_accounts.TryGetKey(identity.PeerId, out var key))
        {
            return new EconomicResult(EconomicStatus.UnknownAccount, "no chain account for this peer in the key ring.");
        }

        var now = await _chain.NowAsync(cancellationToken).ConfigureAwait(false);
        ulong deadline = (ulong)(now + validFor).ToUnixTimeSeconds();
        byte[] signature = identity.Sign(BindingMessage(ChainId, ContractAddress, key.GetPublicAddress(), deadline));
        return await _chain.SendAsync(key, new BindIdentityFunction { PeerId = identity.PeerId.ToArray(), Signature = signature, Deadline = deadline }, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether a recorded binding's Ed25519 signature is the peer id's own over this chain, contract, account and deadline.</summary>
    public bool IsBindingValid(PeerId peer, string account, ulong deadline, ReadOnlySpan<byte> signature) =>
        peer.TryGetEd25519PublicKey(out var publicKey) && publicKey.Verify(BindingMessage(ChainId, ContractAddress, account, deadline), signature);

    /// <summary>The EIP-712 digest of a receipt (tests compare it with the contract's).</summary>
    internal byte[] ReceiptDigest(ReceiptStruct receipt) => _digests.Receipt(receipt);

    internal byte[] ReceiptBatchDigest(string node, IReadOnlyList<ReceiptStruct> receipts) => _digests.ReceiptBatch(node, receipts);

    internal byte[] VerdictDigest(VerdictStruct verdict) => _digests.Verdict(verdict);

    internal byte[] DomainSeparator => _digests.DomainSeparator;

    internal EvmChain Chain => _chain;

    // ---- IDevFaucet ----

    /// <summary>Deposits <paramref name="amount"/> of the account's own native balance into the ledger (on a dev chain the harness or <c>poip chain dev</c> pre-funds accounts).</summary>
    public async Task<EconomicResult> DepositAsync(OperationId operation, PeerId account, TokenAmount amount, CancellationToken cancellationToken = default)
    {
        if (_devChain && _accounts.AddressOf(account) is { } address)
        {
            await EnsureNativeAsync(address, Wei(amount) + GasReserve, cancellationToken).ConfigureAwait(false);
        }

        return await SendAsAsync(account, new DepositFunction { Op = Op(operation) }, Wei(amount), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Binds <paramref name="identity"/>'s peer id to the account the key ring holds for it unless that
    /// account is bound already (see <see cref="BindIdentityAsync"/>); on a development chain it first
    /// gives the account coin for gas (<c>anvil_setBalance</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The account is bound to another peer id, or the binding was refused.</exception>
    public async Task EnsureBoundAsync(Ed25519KeyPair identity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identity);
        string address = _accounts.AddressOf(identity.PeerId) ?? throw new InvalidOperationException($"No chain account for {identity.PeerId} in the key ring.");
        if (_devChain)
        {
            await EnsureNativeAsync(address, GasReserve, cancellationToken).ConfigureAwait(false);
        }

        byte[] bound = await _chain.QueryAsync<PeerOfFunction, byte[]>(new PeerOfFunction { Account = address }, cancellationToken).ConfigureAwait(false);
        byte[] mine = Nethereum.Util.Sha3Keccack.Current.CalculateHash(identity.PeerId.ToArray());
        if (bound.Any(b => b != 0))
        {
            if (!bound.AsSpan().SequenceEqual(mine))
            {
                throw new InvalidOperationException($"Chain account {address} is bound to another peer id.");
            }

            return;
        }

        var result = await BindIdentityAsync(identity, TimeSpan.FromHours(1), cancellationToken).ConfigureAwait(false);
        if (!result.IsApplied)
        {
            throw new InvalidOperationException($"Binding {identity.PeerId} to {address} was refused: {result.Status} {result.Detail}");
        }
    }

    /// <summary>Development chains only (<see cref="EvmStakeManagerOptions.DevChain"/>): raises the account's native balance to at least <paramref name="minimum"/>.</summary>
    private async Task EnsureNativeAsync(string address, BigInteger minimum, CancellationToken cancellationToken)
    {
        var balance = await _chain.ReadAsync(() => _chain.Web3.Eth.GetBalance.SendRequestAsync(address), cancellationToken).ConfigureAwait(false);
        if (balance.Value < minimum)
        {
            var target = new Nethereum.Hex.HexTypes.HexBigInteger(minimum + GasReserve);
            await _chain.ReadAsync(() => _chain.Web3.Client.SendRequestAsync<object>("anvil_setBalance", null, address, target.HexValue), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Withdraws free balance out of the ledger to the account.</summary>
    public Task<EconomicResult> WithdrawAsync(OperationId operation, PeerId account, TokenAmount amount, CancellationToken cancellationToken = default) =>
        SendAsAsync(account, new WithdrawFunction { Op = Op(operation), Amount = Wei(amount) }, 0, cancellationToken);

    /// <summary>Releases the RPC resources.</summary>
    public void Dispose() => _chain.Dispose();

    internal static byte[] Sign(EthECKey key, byte[] digest)
    {
        var signature = key.SignAndCalculateV(digest);
        byte[] bytes = new byte[65];
        signature.R.CopyTo(bytes, 32 - signature.R.Length);
        signature.S.CopyTo(bytes, 64 - signature.S.Length);
        bytes[64] = signature.V[0];
        return bytes;
    }

    private static ReceiptStruct ChainReceipt(SignedMessage<InferenceReceipt> receipt, string node) => new()
    {
        RequestId = receipt.Message.RequestId.Digest.ToArray(),
        ReceiptId = receipt.Hash.ToArray(),
        Node = node,
        Price = Wei(receipt.Message.Price),
    };

    private static PeerId? VerdictValidator(Evidence evidence)
    {
        try
        {
            return SignedMessage.Open<Verdict>(evidence.First).Message.ValidatorId;
        }
        catch (Core.Errors.PoIPException)
        {
            return null; // the verifier reports it
        }
    }

    private Task<EconomicResult> SendAsAsync<TFunction>(PeerId actor, TFunction function, BigInteger value, CancellationToken cancellationToken)
        where TFunction : Nethereum.Contracts.FunctionMessage, new() =>
        _accounts.TryGetKey(actor, out var key)
            ? _chain.SendAsync(key, function, value, cancellationToken)
            : Task.FromResult(new EconomicResult(EconomicStatus.UnknownAccount, "no chain account for this peer in the key ring."));

    /// <summary>The account acting for <paramref name="peer"/>: the key ring's, else its confirmed, valid on-chain binding; null when none.</summary>
    public Task<string?> AddressOfAsync(PeerId peer, CancellationToken cancellationToken = default) => _identities.AddressOfAsync(peer, cancellationToken);

    private static byte[] Op(OperationId operation) => operation.Value.ToByteArray();

    private static BigInteger Wei(TokenAmount amount) => (BigInteger)amount.BaseUnits;

    private static TokenAmount Amount(BigInteger wei) =>
        wei.Sign >= 0 && wei <= (BigInteger)UInt128.MaxValue ? new TokenAmount((UInt128)wei) : throw new InvalidDataException($"The chain reported {wei}, outside a token amount.");
}
