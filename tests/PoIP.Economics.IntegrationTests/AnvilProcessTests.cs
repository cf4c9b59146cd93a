using PoIP.Testing.Chain;
using Xunit;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// The dev chain leaves nothing behind: by default Anvil writes every block's whole state past its
/// 500 in-memory ones to ~/.foundry/anvil/tmp and never removes them when stopped (a 10-minute soak
/// left 14 GB there and filled the disk); <see cref="AnvilProcess"/> prunes history and gives Anvil
/// a home of its own that goes with it.
/// </summary>
public sealed class AnvilProcessTests
{
    [Fact]
    public async Task StartAsync_SixHundredBlocks_WritesNoStateToDisk_AndDisposeRemovesItsHome()
    {
        var anvil = await AnvilProcess.StartAsync();
        var home = anvil.Home;
        try
        {
            var web3 = new Nethereum.Web3.Web3(anvil.RpcUrl.ToString());
            await web3.Client.SendRequestAsync<object>("anvil_mine", null, "0x258").WaitAsync(TimeSpan.FromSeconds(60)); // 600 blocks
            Assert.Equal(600, (long)(await web3.Eth.Blocks.GetBlockNumber.SendRequestAsync().WaitAsync(TimeSpan.FromSeconds(30))).Value);
            Assert.True(home.Exists);
            Assert.Empty(home.EnumerateFiles("*", SearchOption.AllDirectories));
        }
        finally
        {
            await anvil.DisposeAsync();
        }

        home.Refresh();
        Assert.False(home.Exists);
    }
}
