using System.Buffers.Binary;
using System.Numerics;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Signer;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Parameters;
using PoIP.Economics.Slashing;

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
public sealed class EvmStakeManager : IStakeManager, IDevFaucet, IDisposable
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

    // ---- reads ----

    /// <inheritdoc />
    public async Task<StakeInfo> GetStakeAsync(PeerId node, CancellationToken cancellationToken = default)
    {
        if (await AddressOfAsync(node, cancellationToken).ConfigureAwait(false) is not { } address)
        {
            return new StakeInfo(node, TokenAmount.Zero, TokenAmount.Zero, TokenAmount.Zero);
        }

        var bonded = await _chain.QueryAsync<BondedOfFunction, BigInteger>(new BondedOfFunction { Account = address }, cancellationToken).ConfigureAwait(false);
        var tranches = await _chain.QueryObjectAsync<TranchesOfFunction, TranchesOutput>(new TranchesOfFunction { Node = address }, cancellationToken).ConfigureAwait(false);
        long now = (await _chain.NowAsync(cancellationToken).ConfigureAwait(false)).ToUnixTimeSeconds();
        BigInteger unbonding = 0, withdrawable = 0;
        foreach (var tranche in tranches.Tranches)
        {
            if ((long)tranche.ReleaseAt <= now)
            {
                withdrawable += tranche.Amount;
            }
            else
            {
                unbonding += tranche.Amount;
            }
        }

        return new StakeInfo(node, Amount(bonded), Amount(unbonding), Amount(withdrawable));
    }

    /// <inheritdoc />
    public async Task<TokenAmount> GetBalanceAsync(PeerId account, CancellationToken cancellationToken = default) =>
        await AddressOfAsync(account, cancellationToken).ConfigureAwait(false) is { } address
            ? Amount(await _chain.QueryAsync<BalanceOfFunction, BigInteger>(new BalanceOfFunction { Account = address }, cancellationToken).ConfigureAwait(false))
            : TokenAmount.Zero;

    /// <inheritdoc />
    public async Task<EscrowInfo?> GetEscrowAsync(RequestId request, CancellationToken cancellationToken = default)
    {
        var escrow = await _chain.QueryObjectAsync<EscrowsFunction, EscrowOutput>(new EscrowsFunction { RequestId = request.Digest.ToArray() }, cancellationToken).ConfigureAwait(false);
        if (escrow.State == 0)
        {
            return null;
        }

        var client = await _identities.PeerOfAsync(escrow.Client, cancellationToken).ConfigureAwait(false);
        var node = await _identities.PeerOfAsync(escrow.Node, cancellationToken).ConfigureAwait(false);
        return new EscrowInfo(request, client, node, Amount(escrow.Cap), DateTimeOffset.FromUnixTimeSeconds((long)escrow.OpenedAt), (EscrowState)escrow.State, Amount(escrow.Price));
    }

    /// <inheritdoc />
    public async Task<EconomicTotals> GetTotalsAsync(CancellationToken cancellationToken = default)
    {
        var t = await _chain.QueryAsync<TotalsFunction, List<BigInteger>>(new TotalsFunction(), cancellationToken).ConfigureAwait(false);
        return new EconomicTotals(Amount(t[0]), Amount(t[1]), Amount(t[2]), Amount(t[3]), Amount(t[4]), Amount(t[5]), Amount(t[6]));
    }

    /// <summary>The native balance the contract holds (equals <see cref="EconomicTotals.Supply"/> when nothing leaked).</summary>
    public async Task<TokenAmount> GetContractBalanceAsync(CancellationToken cancellationToken = default) =>
        Amount((await _chain.ReadAsync(() => _chain.Web3.Eth.GetBalance.SendRequestAsync(ContractAddress), cancellationToken).ConfigureAwait(false)).Value);

    /// <summary>The latest block number.</summary>
    public async Task<BigInteger> GetBlockNumberAsync(CancellationToken cancellationToken = default) =>
        (await _chain.ReadAsync(() => _chain.Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync(), cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>The parameters in force on chain.</summary>
    public async Task<EconomicParameters> GetParametersAsync(CancellationToken cancellationToken = default)
    {
        var values = await _chain.QueryAsync<GetParametersFunction, List<BigInteger>>(new GetParametersFunction(), cancellationToken).ConfigureAwait(false);
        return EconomicParameters.FromValues(Enum.GetValues<EconomicParameter>().ToDictionary(p => p, p => (UInt128)values[(int)p - 1]));
    }

    /// <inheritdoc />
    public async Task<bool> IsValidatorAsync(PeerId peer, CancellationToken cancellationToken = default) =>
        await AddressOfAsync(peer, cancellationToken).ConfigureAwait(false) is { } address && await _chain.QueryAsync<IsValidatorFunction, bool>(new IsValidatorFunction { Account = address }, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<bool> CanServeAsync(PeerId node, CancellationToken cancellationToken = default)
    {
        var rules = await GetRulesAsync(cancellationToken).ConfigureAwait(false);
        var stake = await GetStakeAsync(node, cancellationToken).ConfigureAwait(false);
        return !stake.Bonded.IsZero && stake.Bonded >= rules.MinimumStake;
    }

    /// <inheritdoc />
    public async Task<EconomicRules> GetRulesAsync(CancellationToken cancellationToken = default)
    {
        var parameters = await GetParametersAsync(cancellationToken).ConfigureAwait(false);
        bool registered = await _chain.QueryAsync<RequireRegisteredValidatorFunction, bool>(new RequireRegisteredValidatorFunction(), cancellationToken).ConfigureAwait(false);
        return new EconomicRules(parameters.MinimumStake, parameters.DisputeWindow, parameters.UnbondingPeriod, parameters.ProtocolFeeBps, registered);
    }

    // ---- writes ----

    /// <inheritdoc />
    public Task<EconomicResult> StakeAsync(OperationId operation, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default) =>
        SendAsAsync(node, new StakeFunction { Op = Op(operation), Amount = Wei(amount) }, 0, cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> RequestUnbondAsync(OperationId operation, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default) =>
        SendAsAsync(node, new RequestUnbondFunction { Op = Op(operation), Amount = Wei(amount) }, 0, cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> WithdrawUnbondedAsync(OperationId operation, PeerId node, CancellationToken cancellationToken = default) =>
        SendAsAsync(node, new WithdrawUnbondedFunction { Op = Op(operation) }, 0, cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> RegisterValidatorAsync(OperationId operation, PeerId validator, CancellationToken cancellationToken = default) =>
        SendAsAsync(validator, new RegisterValidatorFunction { Op = Op(operation) }, 0, cancellationToken);

    /// <inheritdoc />
    public async Task<EconomicResult> OpenEscrowAsync(OperationId operation, RequestId request, PeerId client, PeerId node, TokenAmount priceCap, CancellationToken cancellationToken = default)
    {
        if (await AddressOfAsync(node, cancellationToken).ConfigureAwait(false) is not { } nodeAddress)
        {
            return new EconomicResult(EconomicStatus.UnknownAccount, "the node has no known chain account (not bound on chain, or not confirmed yet).");
        }

        return await SendAsAsync(client, new OpenEscrowFunction { Op = Op(operation), RequestId = request.Digest.ToArray(), Node = nodeAddress, Cap = Wei(priceCap) }, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<EconomicResult> SettleEscrowAsync(OperationId operation, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(receipt);
        var requestId = new RequestId(request.Hash);
        var escrow = await GetEscrowAsync(requestId, cancellationToken).ConfigureAwait(false);
        if (escrow is not { State: EscrowState.Open })
        {
            return new EconomicResult(EconomicStatus.UnknownEscrow, escrow is null ? "no escrow for this request." : $"the escrow is {escrow.State}.");
        }

        // Off chain, exactly as the embedded ledger: the Ed25519 envelopes bind the payment to the request.
        string? mismatch =
            request.Signer != escrow.Client || request.Message.ClientId != escrow.Client ? "the request is not signed by the escrow's client."
            : receipt.Signer != escrow.Node || receipt.Message.NodeId != escrow.Node ? "the receipt is not signed by the escrowed node."
            : receipt.Message.RequestId != requestId ? "the receipt answers another request."
            : null;
        if (mismatch is not null)
        {
            return new EconomicResult(EconomicStatus.InvalidReceipt, mismatch);
        }

        if (receipt.Message.Price > request.Message.PriceCap || receipt.Message.Price > escrow.PriceCap)
        {
            return new EconomicResult(EconomicStatus.InvalidAmount, "the receipt's price exceeds the signed or escrowed cap.");
        }

        // On chain: the node's account signs the EIP-712 receipt (only the node's own manager, or a
        // dev key ring, holds that key); anyone may submit it.
        if (!_accounts.TryGetKey(escrow.Node, out var nodeKey))
        {
            return new EconomicResult(EconomicStatus.InvalidReceipt, "this process holds no chain key of the node to sign the EIP-712 receipt.");
        }

        var chainReceipt = ChainReceipt(receipt, nodeKey.GetPublicAddress());
        return await _chain.SendAsync(nodeKey, new SettleFunction { Op = Op(operation), Receipt = chainReceipt, Signature = Sign(nodeKey, _digests.Receipt(chainReceipt)) }, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Settles many escrows of one node in one transaction with one EIP-712 signature over the whole
    /// batch (all or nothing). Each pair is checked off chain as in <see cref="SettleEscrowAsync"/>.
    /// </summary>
    public async Task<EconomicResult> SettleBatchAsync(OperationId operation, PeerId node, IReadOnlyList<(SignedMessage<InferenceRequest> Request, SignedMessage<InferenceReceipt> Receipt)> settlements, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settlements);
        if (settlements.Count == 0)
        {
            return new EconomicResult(EconomicStatus.InvalidAmount, "an empty batch.");
        }

        if (!_accounts.TryGetKey(node, out var nodeKey))
        {
            return new EconomicResult(EconomicStatus.InvalidReceipt, "this process holds no chain key of the node to sign the batch.");
        }

        var receipts = new List<ReceiptStruct>(settlements.Count);
        foreach (var (request, receipt) in settlements)
        {
            if (receipt.Signer != node || receipt.Message.NodeId != node || receipt.Message.RequestId != new RequestId(request.Hash)
                || request.Signer != request.Message.ClientId || receipt.Message.Price > request.Message.PriceCap)
            {
                return new EconomicResult(EconomicStatus.InvalidReceipt, "a receipt of the batch is not the node's for its request, or exceeds the signed cap.");
            }

            receipts.Add(ChainReceipt(receipt, nodeKey.GetPublicAddress()));
        }

        string address = nodeKey.GetPublicAddress();
        return await _chain.SendAsync(nodeKey, new SettleBatchFunction { Op = Op(operation), Node = address, Receipts = receipts, Signature = Sign(nodeKey, _digests.ReceiptBatch(address, receipts)) }, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<EconomicResult> RefundEscrowAsync(OperationId operation, RequestId request, CancellationToken cancellationToken = default)
    {
        var escrow = await GetEscrowAsync(request, cancellationToken).ConfigureAwait(false);
        if (escrow is not { State: EscrowState.Open })
        {
            return new EconomicResult(EconomicStatus.UnknownEscrow, "no open escrow for this request.");
        }

        // Anyone may ask; sent from the client's account when held here, else from the node's.
        var sender = _accounts.TryGetKey(escrow.Client, out _) ? escrow.Client : escrow.Node;
        return await SendAsAsync(sender, new RefundEscrowFunction { Op = Op(operation), RequestId = request.Digest.ToArray() }, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<EconomicResult> SlashAsync(OperationId operation, SignedMessage<Evidence> evidence, PeerId challenger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        if (evidence.Signer != challenger)
        {
            return new EconomicResult(EconomicStatus.InvalidEvidence, "the challenger must be the evidence's signer.");
        }

        var rules = await GetRulesAsync(cancellationToken).ConfigureAwait(false);
        PeerId? validator = evidence.Message.Kind == EvidenceKind.FraudVerdict ? VerdictValidator(evidence.Message) : null;
        bool registered = validator is { } v && await IsValidatorAsync(v, cancellationToken).ConfigureAwait(false);
        var check = EvidenceVerifier.Check(evidence, peer => registered && validator == peer, rules.RequireRegisteredValidator);
        if (check.Evidence is not { } proven)
        {
            return new EconomicResult(EconomicStatus.InvalidEvidence, check.Problem);
        }

        if (proven.Accused == challenger)
        {
            return new EconomicResult(EconomicStatus.NotAllowed, "a node cannot challenge itself.");
        }

        if (await AddressOfAsync(proven.Accused, cancellationToken).ConfigureAwait(false) is not { } accused)
        {
            return new EconomicResult(EconomicStatus.InvalidEvidence, "the accused has no known chain account.");
        }

        if (proven.Kind == EvidenceKind.FraudVerdict)
        {
            var verdict = SignedMessage.Open<Verdict>(evidence.Message.First);
            if (!_accounts.TryGetKey(proven.Validator, out var validatorKey))
            {
                return new EconomicResult(EconomicStatus.InvalidEvidence, "this process holds no chain key of the verdict's validator to sign the EIP-712 verdict.");
            }

            var chainVerdict = new VerdictStruct
            {
                ReceiptId = verdict.Message.ReceiptId.Digest.ToArray(),
                RequestId = proven.Request.Digest.ToArray(),
                Node = accused,
                Validator = validatorKey.GetPublicAddress(),
                Outcome = (byte)VerdictOutcome.Fraud,
            };
            return await SendAsAsync(challenger, new SlashByVerdictFunction { Op = Op(operation), Verdict = chainVerdict, Signature = Sign(validatorKey, _digests.Verdict(chainVerdict)) }, 0, cancellationToken).ConfigureAwait(false);
        }

        // Equivocation: the node's account must have signed both receipts as EIP-712 data.
        if (!_accounts.TryGetKey(proven.Accused, out var nodeKey))
        {
            return new EconomicResult(EconomicStatus.InvalidEvidence, "this process holds no EIP-712 signatures of the accused's account for the two receipts.");
        }

        var first = ChainReceipt(SignedMessage.Open<InferenceReceipt>(SignedMessage.Open<TransactionRecord>(evidence.Message.First).Message.ReceiptEnvelope), accused);
        var second = ChainReceipt(SignedMessage.Open<InferenceReceipt>(SignedMessage.Open<TransactionRecord>(evidence.Message.Second).Message.ReceiptEnvelope), accused);
        return await SendAsAsync(
            challenger,
            new SlashByEquivocationFunction { Op = Op(operation), First = first, FirstSignature = Sign(nodeKey, _digests.Receipt(first)), Second = second, SecondSignature = Sign(nodeKey, _digests.Receipt(second)) },
            0,
            cancellationToken).ConfigureAwait(false);
    }

    // ---- aggregate vouchers ----

    /// <summary>Moves <paramref name="amount"/> of the client's free balance into its channel to <paramref name="node"/>.</summary>
    public async Task<EconomicResult> FundChannelAsync(OperationId operation, PeerId client, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default) =>
        await AddressOfAsync(node, cancellationToken).ConfigureAwait(false) is { } nodeAddress
            ? await SendAsAsync(client, new FundChannelFunction { Op = Op(operation), Node = nodeAddress, Amount = Wei(amount) }, 0, cancellationToken).ConfigureAwait(false)
            : new EconomicResult(EconomicStatus.UnknownAccount, "the node has no known chain account.");

    /// <summary>The channel from <paramref name="client"/> to <paramref name="node"/> (accounts).</summary>
    public async Task<EvmChannel> GetChannelAsync(string client, string node, CancellationToken cancellationToken = default)
    {
        var c = await _chain.QueryObjectAsync<ChannelsFunction, ChannelOutput>(new ChannelsFunction { Client = client, Node = node }, cancellationToken).ConfigureAwait(false);
        return new EvmChannel(c.Funds, c.Thawing, c.Redeemed, c.ThawEndsAt == 0 ? null : DateTimeOffset.FromUnixTimeSeconds((long)c.ThawEndsAt));
    }

    /// <summary>Signs, with the client's key, a voucher for the running total <paramref name="total"/> it owes <paramref name="node"/>.</summary>
    /// <exception cref="InvalidOperationException">No key of the client here, or no account known for the node.</exception>
    public async Task<EvmVoucher> SignVoucherAsync(PeerId client, PeerId node, TokenAmount total, CancellationToken cancellationToken = default)
    {
        if (!_accounts.TryGetKey(client, out var key))
        {
            throw new InvalidOperationException("this process holds no chain key of the client.");
        }

        string nodeAddress = await AddressOfAsync(node, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("the node has no known chain account.");
        var voucher = new VoucherStruct { Client = key.GetPublicAddress(), Node = nodeAddress, Total = Wei(total) };
        return new EvmVoucher(voucher.Client, voucher.Node, voucher.Total, Sign(key, _digests.Voucher(voucher)));
    }

    /// <summary>
    /// Redeems a voucher from <paramref name="submitter"/>'s account (usually the node). Checked here
    /// before anything is sent, as the contract checks it: signed by the voucher's client, a total above
    /// the last redeemed one, the increase within the channel's funds.
    /// </summary>
    public async Task<EconomicResult> RedeemVoucherAsync(OperationId operation, EvmVoucher voucher, PeerId submitter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(voucher);
        var chainVoucher = new VoucherStruct { Client = voucher.Client, Node = voucher.Node, Total = voucher.Total };
        if (voucher.Signature.Length != 65 || !string.Equals(Recover(_digests.Voucher(chainVoucher), voucher.Signature.Span), voucher.Client, StringComparison.OrdinalIgnoreCase))
        {
            return new EconomicResult(EconomicStatus.InvalidReceipt, "the voucher is not signed by its client for this chain and contract.");
        }

        var channel = await GetChannelAsync(voucher.Client, voucher.Node, cancellationToken).ConfigureAwait(false);
        if (voucher.Total <= channel.Redeemed)
        {
            return new EconomicResult(EconomicStatus.InvalidAmount, $"a voucher for a total ({voucher.Total}) not above the one redeemed ({channel.Redeemed}).");
        }

        if (voucher.Total - channel.Redeemed > channel.Funds)
        {
            return new EconomicResult(EconomicStatus.InsufficientFunds, "the voucher adds more than the channel holds.");
        }

        return await SendAsAsync(submitter, new RedeemVoucherFunction { Op = Op(operation), Voucher = chainVoucher, Signature = voucher.Signature.ToArray() }, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts taking <paramref name="amount"/> of the channel back (withdrawable after the dispute window; the node may redeem meanwhile).</summary>
    public async Task<EconomicResult> ThawChannelAsync(OperationId operation, PeerId client, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default) =>
        await AddressOfAsync(node, cancellationToken).ConfigureAwait(false) is { } nodeAddress
            ? await SendAsAsync(client, new ThawChannelFunction { Op = Op(operation), Node = nodeAddress, Amount = Wei(amount) }, 0, cancellationToken).ConfigureAwait(false)
            : new EconomicResult(EconomicStatus.UnknownAccount, "the node has no known chain account.");

    /// <summary>Returns the thawed part of the channel to the client's free balance.</summary>
    public async Task<EconomicResult> WithdrawChannelAsync(OperationId operation, PeerId client, PeerId node, CancellationToken cancellationToken = default) =>
        await AddressOfAsync(node, cancellationToken).ConfigureAwait(false) is { } nodeAddress
            ? await SendAsAsync(client, new WithdrawChannelFunction { Op = Op(operation), Node = nodeAddress }, 0, cancellationToken).ConfigureAwait(false)
            : new EconomicResult(EconomicStatus.UnknownAccount, "the node has no known chain account.");

    internal byte[] VoucherDigest(VoucherStruct voucher) => _digests.Voucher(voucher);

    private static string Recover(byte[] digest, ReadOnlySpan<byte> signature)
    {
        try
        {
            var components = EthECDSASignatureFactory.FromComponents(signature[..32].ToArray(), signature[32..64].ToArray(), signature[64]);
            return EthECKey.RecoverFromSignature(components, digest).GetPublicAddress();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or ArithmeticException)
        {
            return string.Empty;
        }
    }

    /// <summary>Proposes a parameter change (stake-weighted governance on chain); the result's detail is empty.</summary>
    public Task<EconomicResult> ProposeParameterAsync(OperationId operation, PeerId proposer, EconomicParameter parameter, UInt128 value, CancellationToken cancellationToken = default) =>
        SendAsAsync(proposer, new ProposeParameterFunction { Op = Op(operation), Parameter = (byte)((int)parameter - 1), Value = (BigInteger)value }, 0, cancellationToken);

    /// <summary>Votes on proposal <paramref name="proposal"/> (1-based, in creation order) with the voter's bonded stake.</summary>
    public Task<EconomicResult> VoteAsync(OperationId operation, PeerId voter, BigInteger proposal, bool support, CancellationToken cancellationToken = default) =>
        SendAsAsync(voter, new VoteFunction { Op = Op(operation), Id = proposal, Support = support }, 0, cancellationToken);

    /// <summary>Executes proposal <paramref name="proposal"/> after its voting period and timelock.</summary>
    public Task<EconomicResult> ExecuteProposalAsync(OperationId operation, PeerId caller, BigInteger proposal, CancellationToken cancellationToken = default) =>
        SendAsAsync(caller, new ExecuteFunction { Op = Op(operation), Id = proposal }, 0, cancellationToken);

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
