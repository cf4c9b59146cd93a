using System.Numerics;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Signer;
using Nethereum.Util;
using Nethereum.Web3;
using PoIP.Core.Economics;

namespace PoIP.Economics.Evm;

/// <summary>
/// Transactions and calls against one contract: every call has a deadline and honours cancellation;
/// a transaction is simulated first (a revert becomes a typed refusal named after the custom error,
/// and nothing is sent), then signed here with the sender's key and the nonce the chain reports as
/// pending (so a revert, a restart or an <c>evm_revert</c> never leaves a stale nonce), sent, and its
/// receipt awaited until it is <see cref="EvmStakeManagerOptions.ConfirmationDepth"/> blocks deep.
/// Sends from one account are signed and submitted one at a time (each takes the next nonce), but
/// their receipts are awaited concurrently: an account can have many transactions in one block, so
/// one busy account (a gateway opening an escrow per request) is not held to one transaction per
/// block or per round trip. Waiting transactions share one head poll (<see cref="ChainHead"/>).
/// </summary>
internal sealed class EvmChain : IDisposable
{
    private static readonly Dictionary<string, EconomicStatus> ErrorsBySelector = Enum.GetValues<EconomicStatus>()
        .Where(s => s != EconomicStatus.Applied)
        .ToDictionary(s => Sha3Keccack.Current.CalculateHash(System.Text.Encoding.ASCII.GetBytes(s + "()")).AsSpan(0, 4).ToArray().ToHex(prefix: true), s => s, StringComparer.OrdinalIgnoreCase);

    private readonly Dictionary<string, SemaphoreSlim> _senders = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();
    private readonly EvmStakeManagerOptions _options;

    private readonly ChainHead _head;

    private EvmChain(EvmStakeManagerOptions options, Web3 web3, BigInteger chainId)
    {
        _options = options;
        Web3 = web3;
        ChainId = chainId;
        _head = new ChainHead(async () => (await web3.Eth.Blocks.GetBlockNumber.SendRequestAsync().ConfigureAwait(false)).Value, options.ReceiptPollInterval, TimeProvider.System);
    }

    public Web3 Web3 { get; }

    public BigInteger ChainId { get; }

    public string Contract => _options.ContractAddress;

    public static async Task<EvmChain> ConnectAsync(EvmStakeManagerOptions options, CancellationToken cancellationToken)
    {
        var web3 = new Web3(options.RpcUrl!.ToString());
        using var deadline = Deadline(options, cancellationToken);
        var chainId = await web3.Eth.ChainId.SendRequestAsync().WaitAsync(deadline.Token).ConfigureAwait(false);
        return new EvmChain(options, web3, chainId.Value);
    }

    /// <summary>A token that fires at the call timeout or on <paramref name="cancellationToken"/>.</summary>
    public static CancellationTokenSource Deadline(EvmStakeManagerOptions options, CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(options.CallTimeout);
        return source;
    }

    /// <summary>Runs a read with the call deadline; a timeout is a <see cref="TimeoutException"/>.</summary>
    public async Task<T> ReadAsync<T>(Func<Task<T>> read, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(_options, cancellationToken);
        try
        {
            return await read().WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The chain did not answer within {_options.CallTimeout}.");
        }
    }

    public Task<TOut> QueryAsync<TFunction, TOut>(TFunction function, CancellationToken cancellationToken)
        where TFunction : FunctionMessage, new() =>
        ReadAsync(() => Web3.Eth.GetContractQueryHandler<TFunction>().QueryAsync<TOut>(Contract, function), cancellationToken);

    public Task<TOut> QueryObjectAsync<TFunction, TOut>(TFunction function, CancellationToken cancellationToken)
        where TFunction : FunctionMessage, new()
        where TOut : Nethereum.ABI.FunctionEncoding.Attributes.IFunctionOutputDTO, new() =>
        ReadAsync(() => Web3.Eth.GetContractQueryHandler<TFunction>().QueryDeserializingToObjectAsync<TOut>(function, Contract), cancellationToken);

    /// <summary>The latest block's timestamp (the time the next transaction will see, at the earliest).</summary>
    public async Task<DateTimeOffset> NowAsync(CancellationToken cancellationToken)
    {
        var block = await ReadAsync(() => Web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(BlockParameter.CreateLatest()), cancellationToken).ConfigureAwait(false);
        return DateTimeOffset.FromUnixTimeSeconds((long)block.Timestamp.Value);
    }

    /// <summary>Simulates, signs, sends and confirms a contract call from <paramref name="key"/>'s account.</summary>
    public Task<EconomicResult> SendAsync<TFunction>(EthECKey key, TFunction function, BigInteger value, CancellationToken cancellationToken)
        where TFunction : FunctionMessage, new() =>
        SendDataAsync(key, Contract, function.GetCallData().ToHex(prefix: true), value, cancellationToken);

    /// <summary>Simulates, signs, sends and confirms a transaction (a null <paramref name="to"/> deploys <paramref name="data"/>).</summary>
    public async Task<EconomicResult> SendDataAsync(EthECKey key, string? to, string data, BigInteger value, CancellationToken cancellationToken)
    {
        string from = key.GetPublicAddress();
        var gate = Sender(from);
        using var deadline = Deadline(_options, cancellationToken);
        var token = deadline.Token;
        try
        {
            var call = new CallInput(data, to, new HexBigInteger(value)) { From = from };
            string hash;
            await gate.WaitAsync(token).ConfigureAwait(false);
            try
            {
                HexBigInteger gas;
                try
                {
                    gas = await Web3.Eth.Transactions.EstimateGas.SendRequestAsync(call).WaitAsync(token).ConfigureAwait(false);
                }
                catch (RpcResponseException e)
                {
                    return Refusal(e);
                }

                // The pending count includes this account's transactions sent before and not mined yet.
                var nonce = await Web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(from, BlockParameter.CreatePending()).WaitAsync(token).ConfigureAwait(false);
                var gasPrice = await Web3.Eth.GasPrice.SendRequestAsync().WaitAsync(token).ConfigureAwait(false);
                var gasLimit = (gas.Value * 6 / 5) + 10_000;
                string signed = new LegacyTransactionSigner().SignTransaction(key.GetPrivateKeyAsBytes(), ChainId, to, value, nonce.Value, gasPrice.Value, gasLimit, data);
                hash = await Web3.Eth.Transactions.SendRawTransaction.SendRequestAsync(signed.EnsureHexPrefix()).WaitAsync(token).ConfigureAwait(false);
            }
            finally
            {
                gate.Release(); // the next transaction of this account may go out while this one waits for its block
            }

            var receipt = await ReceiptAsync(hash, token).ConfigureAwait(false);
            LastReceipt = receipt;
            if (receipt.Status?.Value == 1)
            {
                return EconomicResult.Applied;
            }

            // Reverted after a clean simulation (another transaction changed the state in between): ask why now.
            try
            {
                await Web3.Eth.Transactions.Call.SendRequestAsync(call, BlockParameter.CreateLatest()).WaitAsync(token).ConfigureAwait(false);
            }
            catch (RpcResponseException e)
            {
                return Refusal(e);
            }

            return new EconomicResult(EconomicStatus.NotAllowed, $"transaction {hash} reverted.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The chain did not confirm within {_options.CallTimeout}.");
        }
    }

    /// <summary>The receipt of the last transaction this chain client confirmed (gas figures for benchmarks).</summary>
    public TransactionReceipt? LastReceipt { get; private set; }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var gate in _senders.Values)
            {
                gate.Dispose();
            }

            _senders.Clear();
        }
    }

    /// <summary>
    /// The receipt of <paramref name="hash"/> once it is the confirmation depth deep: read once now, then
    /// once per new block (the head is read before each receipt read, so a block mined in between is
    /// never missed), re-read at depth so a reorg that dropped or moved it is seen.
    /// </summary>
    private async Task<TransactionReceipt> ReceiptAsync(string hash, CancellationToken token)
    {
        var seen = await _head.CurrentAsync(token).ConfigureAwait(false);
        while (true)
        {
            var receipt = await Web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(hash).WaitAsync(token).ConfigureAwait(false);
            if (receipt is not null)
            {
                if (_options.ConfirmationDepth == 0)
                {
                    return receipt;
                }

                if (seen >= receipt.BlockNumber.Value + _options.ConfirmationDepth)
                {
                    var again = await Web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(hash).WaitAsync(token).ConfigureAwait(false);
                    if (again is not null && again.BlockHash == receipt.BlockHash)
                    {
                        return again;
                    }
                }
            }

            seen = await _head.AfterAsync(seen, token).ConfigureAwait(false);
        }
    }

    private SemaphoreSlim Sender(string address)
    {
        lock (_lock)
        {
            if (!_senders.TryGetValue(address, out var gate))
            {
                gate = new SemaphoreSlim(1, 1);
                _senders.Add(address, gate);
            }

            return gate;
        }
    }

    /// <summary>A revert named after its custom error (the <see cref="EconomicStatus"/> of the same name).</summary>
    private static EconomicResult Refusal(RpcResponseException e)
    {
        string data = e.RpcError?.Data?.ToString() ?? string.Empty;
        if (data.Length >= 10 && ErrorsBySelector.TryGetValue(data[..10], out var status))
        {
            return new EconomicResult(status, $"the contract refused it ({status}).");
        }

        if (e.RpcError?.Message?.Contains("insufficient funds", StringComparison.OrdinalIgnoreCase) == true)
        {
            return new EconomicResult(EconomicStatus.InsufficientFunds, "the account cannot pay for the transaction: " + e.RpcError.Message);
        }

        return new EconomicResult(EconomicStatus.NotAllowed, "the chain refused it: " + (e.RpcError?.Message ?? e.Message));
    }
}
