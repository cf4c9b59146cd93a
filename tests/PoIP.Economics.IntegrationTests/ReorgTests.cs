using System.Diagnostics;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Evm;
using PoIP.Economics.Parameters;
using Xunit;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// Reorgs driven with <c>anvil_reorg</c> (it drops the top blocks' transactions for good): with a
/// confirmation depth the manager acts on nothing a reorg can still take back, neither its own
/// transactions nor other parties' identity bindings.
/// </summary>
public sealed class ReorgTests(AnvilChain chain) : IClassFixture<AnvilChain>
{
    [Fact]
    public async Task Send_ReorgedOutBeforeConfirmationDepth_NeverReportedApplied_AndTheSameOperationAppliesAfter()
    {
        using var fast = await chain.DeployAsync(EconomicParameters.Default);
        using var careful = await ConnectAsync(fast.ContractAddress, fast.Accounts, depth: 2);
        using var node = Ed25519KeyPair.Generate();
        await chain.FundAsync(fast, fast.Accounts, node.PeerId, TokenAmount.FromTokens(150));
        var operation = OperationId.New();

        long before = await BlockAsync();
        var first = careful.StakeAsync(operation, node.PeerId, TokenAmount.FromTokens(150));
        await UntilAsync(async () => await BlockAsync() > before); // mined, one block deep
        Assert.False(first.IsCompleted, "reported before it was 2 blocks deep");
        Assert.Equal(TokenAmount.FromTokens(150), (await fast.GetStakeAsync(node.PeerId)).Bonded); // the effect is there...

        await chain.RpcAsync<object>("anvil_reorg", 1, Array.Empty<object>()); // ...and a reorg takes it back
        await chain.RpcAsync<object>("anvil_mine", "0x3");
        await Assert.ThrowsAsync<TimeoutException>(() => first); // never confirmed: not reported as applied
        Assert.Equal(TokenAmount.Zero, (await fast.GetStakeAsync(node.PeerId)).Bonded);

        before = await BlockAsync();
        var retry = careful.StakeAsync(operation, node.PeerId, TokenAmount.FromTokens(150)); // same operation id: it was never used
        await UntilAsync(async () => await BlockAsync() > before);
        await chain.RpcAsync<object>("anvil_mine", "0x2");
        Assert.True((await retry).IsApplied);
        Assert.Equal(TokenAmount.FromTokens(150), (await careful.GetStakeAsync(node.PeerId)).Bonded);
    }

    [Fact]
    public async Task AddressOf_BindingShallowerThanDepth_NotUsed_AndABindingAReorgDropsIsNeverUsed()
    {
        using var owner = await chain.DeployAsync(EconomicParameters.Default);
        using var reader = await ConnectAsync(owner.ContractAddress, new EvmAccounts(), depth: 2); // holds no key: must read the bindings
        using var party = Ed25519KeyPair.Generate();
        string account = owner.Accounts.Add(party.PeerId, EvmAccounts.NewPrivateKey());
        await chain.AddNativeAsync(account, AnvilChain.Gas);

        Assert.True((await owner.BindIdentityAsync(party, TimeSpan.FromHours(1))).IsApplied);
        await chain.RpcAsync<object>("anvil_mine", "0x1");
        Assert.Null(await reader.AddressOfAsync(party.PeerId)); // one block on top: not yet
        await chain.RpcAsync<object>("anvil_reorg", 2, Array.Empty<object>()); // the binding's block is gone
        await chain.RpcAsync<object>("anvil_mine", "0x5");
        Assert.Null(await reader.AddressOfAsync(party.PeerId));

        Assert.True((await owner.BindIdentityAsync(party, TimeSpan.FromHours(1))).IsApplied); // bound again
        await chain.RpcAsync<object>("anvil_mine", "0x2");
        Assert.Equal(account, await reader.AddressOfAsync(party.PeerId), StringComparer.OrdinalIgnoreCase);
    }

    private async Task<EvmStakeManager> ConnectAsync(string contract, EvmAccounts accounts, int depth) =>
        await EvmStakeManager.ConnectAsync(new EvmStakeManagerOptions
        {
            RpcUrl = chain.RpcUrl,
            ContractAddress = contract,
            Accounts = accounts,
            ReceiptPollInterval = TimeSpan.FromMilliseconds(2),
            CallTimeout = TimeSpan.FromSeconds(3),
            ConfirmationDepth = depth,
        });

    private async Task<long> BlockAsync() => (long)(await chain.Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value;

    /// <summary>Bounded polling of the external chain.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the chain did not get there within 20 s");
            await Task.Delay(5);
        }
    }
}
