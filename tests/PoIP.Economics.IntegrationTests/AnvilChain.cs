using System.Globalization;
using System.Numerics;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Evm;
using PoIP.Economics.Parameters;
using PoIP.Testing.Chain;
using Xunit;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// One Anvil chain for a test class (tests in a class run one after another): block time frozen
/// (<c>anvil_setBlockTimestampInterval 0</c>) and moved only by <see cref="AdvanceTimeAsync"/>, so
/// windows and periods are exact. Deploys fresh ledgers and funds accounts with <c>anvil_setBalance</c>.
/// </summary>
public sealed class AnvilChain : IAsyncLifetime
{
    public static readonly BigInteger Gas = BigInteger.Pow(10, 19); // 10 ETH for fees per funded account
    private string[] _arguments = [];
    private AnvilProcess? _anvil;

    public Uri RpcUrl => _anvil!.RpcUrl;

    public Web3 Web3 { get; private set; } = null!;

    /// <summary>A chain started with Anvil's <paramref name="arguments"/> too (e.g. <c>--block-time 0.25</c>); call <see cref="InitializeAsync"/>.</summary>
    public static AnvilChain With(params string[] arguments) => new() { _arguments = arguments };

    public async Task InitializeAsync()
    {
        _anvil = await AnvilProcess.StartAsync(1, _arguments);
        Web3 = new Web3(RpcUrl.ToString());
        await RpcAsync<object>("anvil_setBlockTimestampInterval", 0);
    }

    public async Task DisposeAsync()
    {
        if (_anvil is not null)
        {
            await _anvil.DisposeAsync();
        }
    }

    public Task<T> RpcAsync<T>(string method, params object[] parameters) =>
        Web3.Client.SendRequestAsync<T>(method, null, parameters).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Gives <paramref name="address"/> <paramref name="extra"/> more native balance.</summary>
    public async Task AddNativeAsync(string address, BigInteger extra)
    {
        var balance = await Web3.Eth.GetBalance.SendRequestAsync(address).WaitAsync(TimeSpan.FromSeconds(30));
        await RpcAsync<object>("anvil_setBalance", address, new HexBigInteger(balance.Value + extra).HexValue);
    }

    /// <summary>Mines one block exactly <paramref name="by"/> after the latest.</summary>
    public async Task AdvanceTimeAsync(TimeSpan by)
    {
        var latest = await Web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(BlockParameter.CreateLatest()).WaitAsync(TimeSpan.FromSeconds(30));
        long next = (long)latest.Timestamp.Value + (long)Math.Ceiling(by.TotalSeconds);
        await RpcAsync<object>("evm_setNextBlockTimestamp", next);
        await RpcAsync<object>("evm_mine");
    }

    public Task<string> SnapshotAsync() => RpcAsync<string>("evm_snapshot");

    public Task<bool> RevertAsync(string snapshot) => RpcAsync<bool>("evm_revert", snapshot);

    /// <summary>A fresh PoIPLedger and a manager over it with an empty key ring.</summary>
    public async Task<EvmStakeManager> DeployAsync(EconomicParameters parameters, bool requireRegisteredValidator = true)
    {
        string deployer = EvmAccounts.NewPrivateKey();
        await AddNativeAsync(EvmAccounts.AddressOf(deployer), Gas);
        string contract = await EvmStakeManager.DeployAsync(RpcUrl, deployer, parameters, requireRegisteredValidator);
        return await EvmStakeManager.ConnectAsync(new EvmStakeManagerOptions
        {
            RpcUrl = RpcUrl,
            ContractAddress = contract,
            Accounts = new EvmAccounts(),
            ReceiptPollInterval = TimeSpan.FromMilliseconds(2),
        });
    }

    /// <summary>Gives <paramref name="peer"/> a chain account (if it has none), gas, and <paramref name="amount"/> deposited into the ledger.</summary>
    public async Task FundAsync(EvmStakeManager manager, EvmAccounts accounts, PeerId peer, TokenAmount amount)
    {
        string address = accounts.AddressOf(peer) ?? accounts.Add(peer, EvmAccounts.NewPrivateKey());
        await AddNativeAsync(address, Gas + (BigInteger)amount.BaseUnits);
        var result = await manager.DepositAsync(Core.Economics.OperationId.New(), peer, amount);
        if (!result.IsApplied)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"deposit refused: {result.Status} {result.Detail}"));
        }
    }
}
