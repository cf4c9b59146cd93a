using System.Diagnostics;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Testing.Economics;
using Xunit;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// One account's transactions go out one after another but wait for their block together: a gateway
/// that opens an escrow per request is not held to one transaction per block (on a chain with a
/// block time, that would be one request per block).
/// </summary>
public sealed class EvmSendTests(AnvilChain chain) : IClassFixture<AnvilChain>
{
    [Fact]
    public async Task OpenEscrowAsync_FiveAtOnceFromOneAccount_AllInTheSameBlock()
    {
        await using var h = await EvmHarness.StartAsync(chain);
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, h.Parameters.MinimumStake);
        Assert.True((await h.Evm.StakeAsync(OperationId.New(), node.PeerId, h.Parameters.MinimumStake)).IsApplied);
        await h.FundAsync(client.PeerId, TokenAmount.FromTokens(10));

        await chain.RpcAsync<object>("evm_setAutomine", false); // blocks only when asked for
        try
        {
            long before = await BlockAsync();
            var opens = Enumerable.Range(0, 5).Select(i => h.Evm.OpenEscrowAsync(OperationId.New(), new RequestId(EvidenceFactory.Request(client, (ulong)i, TokenAmount.FromTokens(2)).Hash), client.PeerId, node.PeerId, TokenAmount.FromTokens(2))).ToList();

            // Bounded polling of the external chain: all five reach its pool before any block is mined
            // (a send that waited for the previous one's receipt would leave one there).
            var clock = Stopwatch.StartNew();
            while (await PendingAsync() < 5)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"only {await PendingAsync()} of 5 transactions reached the pool within 20 s");
                Assert.DoesNotContain(opens, o => o.IsCompleted);
                await Task.Delay(5);
            }

            await chain.RpcAsync<object>("evm_mine");
            Assert.All(await Task.WhenAll(opens), r => Assert.True(r.IsApplied, r.Detail));
            Assert.Equal(before + 1, await BlockAsync());
        }
        finally
        {
            await chain.RpcAsync<object>("evm_setAutomine", true);
        }
    }

    private async Task<long> BlockAsync() => (long)(await chain.Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value;

    private async Task<long> PendingAsync()
    {
        var status = await chain.RpcAsync<Newtonsoft.Json.Linq.JObject>("txpool_status");
        return Convert.ToInt64((string)status["pending"]!, 16);
    }
}
