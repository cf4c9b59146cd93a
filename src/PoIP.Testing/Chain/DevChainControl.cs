using System.Globalization;
using System.Numerics;
using Nethereum.Hex.HexTypes;
using Nethereum.Web3;

namespace PoIP.Testing.Chain;

/// <summary>The development-only RPC methods of Anvil: coin for an account, the clock, blocks. Every call bounded.</summary>
public sealed class DevChainControl(Uri rpcUrl)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly Web3 _web3 = new(rpcUrl.ToString());

    /// <summary>Sets <paramref name="address"/>'s native balance.</summary>
    public Task SetBalanceAsync(string address, BigInteger wei, CancellationToken cancellationToken = default) =>
        RpcAsync<object>("anvil_setBalance", [address, new HexBigInteger(wei).HexValue], cancellationToken);

    /// <summary>Moves the chain's clock forward by <paramref name="by"/> (whole seconds, rounded up) and mines a block.</summary>
    public async Task AdvanceTimeAsync(TimeSpan by, CancellationToken cancellationToken = default)
    {
        await RpcAsync<object>("evm_increaseTime", [(long)Math.Ceiling(by.TotalSeconds)], cancellationToken).ConfigureAwait(false);
        await MineAsync(1, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Mines <paramref name="blocks"/> empty blocks.</summary>
    public Task MineAsync(int blocks, CancellationToken cancellationToken = default) =>
        RpcAsync<object>("anvil_mine", ["0x" + blocks.ToString("x", CultureInfo.InvariantCulture)], cancellationToken);

    /// <summary>Whether the chain answers Anvil's development methods (a dev chain).</summary>
    public async Task<bool> IsDevChainAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await RpcAsync<object>("anvil_nodeInfo", [], cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Nethereum.JsonRpc.Client.RpcResponseException)
        {
            return false;
        }
    }

    /// <summary>Sends a raw JSON-RPC request with a 30 s limit.</summary>
    public async Task<T> RpcAsync<T>(string method, object[] parameters, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _web3.Client.SendRequestAsync<T>(method, null, parameters).WaitAsync(Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"The chain did not answer {method} within {Timeout.TotalSeconds} s.", ex);
        }
    }
}
