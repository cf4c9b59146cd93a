using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Evm;
using PoIP.Economics.Parameters;
using PoIP.Testing.Economics;
using Xunit;

namespace PoIP.Economics.IntegrationTests;

/// <summary>The EVM back end for the shared contract suite: a freshly deployed PoIPLedger per test on the class's Anvil.</summary>
internal sealed class EvmHarness : IStakeManagerHarness
{
    private readonly AnvilChain _chain;

    private EvmHarness(AnvilChain chain, EvmStakeManager manager, EvmAccounts accounts, EconomicParameters parameters)
    {
        _chain = chain;
        Evm = manager;
        Accounts = accounts;
        var p = parameters;
        Parameters = new StakeManagerContractParameters(p.SlashFractionBps, p.ChallengerShareBps, p.PublicFundShareBps, p.ProtocolFeeBps, p.DisputeWindow, p.UnbondingPeriod, p.MinimumStake);
    }

    public EvmStakeManager Evm { get; }

    public EvmAccounts Accounts { get; }

    public IStakeManager Manager => Evm;

    public StakeManagerContractParameters Parameters { get; }

    public static async Task<EvmHarness> StartAsync(AnvilChain chain, EconomicParameters? parameters = null)
    {
        parameters ??= EconomicParameters.Default;
        var manager = await chain.DeployAsync(parameters);
        return new EvmHarness(chain, manager, manager.Accounts, parameters);
    }

    public Task FundAsync(PeerId account, TokenAmount amount) => _chain.FundAsync(Evm, Accounts, account, amount);

    public Task AdvanceTimeAsync(TimeSpan by) => _chain.AdvanceTimeAsync(by);

    public async Task RegisterValidatorAsync(PeerId validator)
    {
        await FundAsync(validator, Parameters.MinimumStake);
        Assert.True((await Evm.StakeAsync(OperationId.New(), validator, Parameters.MinimumStake)).IsApplied);
        var registered = await Evm.RegisterValidatorAsync(OperationId.New(), validator);
        Assert.True(registered.IsApplied, registered.Detail);
    }

    public async ValueTask DisposeAsync()
    {
        // Every base unit the ledger accounts for is held by the contract.
        var totals = await Evm.GetTotalsAsync();
        Assert.Equal(totals.Supply, await Evm.GetContractBalanceAsync());
        Evm.Dispose();
    }

    
}
