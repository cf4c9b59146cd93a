using System.Numerics;
using Nethereum.Signer;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Evm;
using Xunit;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// Graph-style aggregate vouchers on PoIPLedger: a client funds a channel to a node and signs running
/// totals; each redemption pays only what the total adds; lower totals, replays, foreign signatures and
/// other domains are refused by the client's checks and, sent raw, by the contract itself.
/// </summary>
public sealed class EvmVoucherTests(AnvilChain chain) : IClassFixture<AnvilChain>
{
    private static TokenAmount Tokens(ulong tokens) => TokenAmount.FromTokens(tokens);

    [Fact]
    public async Task RedeemVoucher_GrowingTotals_PayEachIncreaseOnce_LowerOrSameTotalRefused_Conserved()
    {
        await using var h = await EvmHarness.StartAsync(chain);
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(1));
        await h.FundAsync(client.PeerId, Tokens(20));
        Assert.True((await h.Evm.FundChannelAsync(OperationId.New(), client.PeerId, node.PeerId, Tokens(10))).IsApplied);
        var before = await h.Evm.GetBalanceAsync(node.PeerId);
        var fee = h.Parameters.ProtocolFeeBps;

        var paid = TokenAmount.Zero;
        foreach (ulong total in new ulong[] { 1, 3, 6 })
        {
            var voucher = await h.Evm.SignVoucherAsync(client.PeerId, node.PeerId, Tokens(total));
            Assert.True((await h.Evm.RedeemVoucherAsync(OperationId.New(), voucher, node.PeerId)).IsApplied);
        }

        foreach (ulong increase in new ulong[] { 1, 2, 3 })
        {
            paid += Tokens(increase) - Tokens(increase).MultiplyFraction(fee, 10_000);
        }

        Assert.Equal(before + paid, await h.Evm.GetBalanceAsync(node.PeerId));
        var channel = await h.Evm.GetChannelAsync(h.Accounts.AddressOf(client.PeerId)!, h.Accounts.AddressOf(node.PeerId)!);
        Assert.Equal((BigInteger)Tokens(4).BaseUnits, channel.Funds);
        Assert.Equal((BigInteger)Tokens(6).BaseUnits, channel.Redeemed);

        // An older (lower) voucher and the same one again: refused before sending, and by the contract when sent raw.
        var lower = await h.Evm.SignVoucherAsync(client.PeerId, node.PeerId, Tokens(5));
        var same = await h.Evm.SignVoucherAsync(client.PeerId, node.PeerId, Tokens(6));
        Assert.Equal(EconomicStatus.InvalidAmount, (await h.Evm.RedeemVoucherAsync(OperationId.New(), lower, node.PeerId)).Status);
        Assert.Equal(EconomicStatus.InvalidAmount, await RedeemRawAsync(h, node, lower, lower.Signature.ToArray()));
        Assert.Equal(EconomicStatus.InvalidAmount, await RedeemRawAsync(h, node, same, same.Signature.ToArray()));

        // More than the channel holds: refused both ways; the channel is unchanged.
        var over = await h.Evm.SignVoucherAsync(client.PeerId, node.PeerId, Tokens(11));
        Assert.Equal(EconomicStatus.InsufficientFunds, (await h.Evm.RedeemVoucherAsync(OperationId.New(), over, node.PeerId)).Status);
        Assert.Equal(EconomicStatus.InsufficientFunds, await RedeemRawAsync(h, node, over, over.Signature.ToArray()));
        Assert.Equal(channel, await h.Evm.GetChannelAsync(h.Accounts.AddressOf(client.PeerId)!, h.Accounts.AddressOf(node.PeerId)!));
        await AssertConservedAsync(h);
    }

    [Fact]
    public async Task RedeemVoucher_ForeignSignerOtherChainOtherContractOrAlteredTotal_RefusedByTheContractItself()
    {
        await using var h = await EvmHarness.StartAsync(chain);
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(1));
        await h.FundAsync(client.PeerId, Tokens(20));
        Assert.True((await h.Evm.FundChannelAsync(OperationId.New(), client.PeerId, node.PeerId, Tokens(10))).IsApplied);
        Assert.True(h.Accounts.TryGetKey(client.PeerId, out var clientKey));
        Assert.True(h.Accounts.TryGetKey(node.PeerId, out var nodeKey));
        var voucher = new VoucherStruct { Client = clientKey.GetPublicAddress(), Node = nodeKey.GetPublicAddress(), Total = (BigInteger)Tokens(2).BaseUnits };
        var asVoucher = new EvmVoucher(voucher.Client, voucher.Node, voucher.Total, ReadOnlyMemory<byte>.Empty);
        var otherChain = new Eip712Digests(h.Evm.ChainId + 1, h.Evm.ContractAddress);
        var otherContract = new Eip712Digests(h.Evm.ChainId, "0x" + new string('1', 40));

        Assert.Equal(EconomicStatus.InvalidReceipt, await RedeemRawAsync(h, node, asVoucher, EvmStakeManager.Sign(nodeKey, h.Evm.VoucherDigest(voucher)))); // the node signs its own pay
        Assert.Equal(EconomicStatus.InvalidReceipt, await RedeemRawAsync(h, node, asVoucher, EvmStakeManager.Sign(clientKey, otherChain.Voucher(voucher))));
        Assert.Equal(EconomicStatus.InvalidReceipt, await RedeemRawAsync(h, node, asVoucher, EvmStakeManager.Sign(clientKey, otherContract.Voucher(voucher))));
        var good = EvmStakeManager.Sign(clientKey, h.Evm.VoucherDigest(voucher));
        Assert.Equal(EconomicStatus.InvalidReceipt, await RedeemRawAsync(h, node, asVoucher with { Total = voucher.Total * 2 }, good)); // total altered after signing
        Assert.Equal(EconomicStatus.InvalidReceipt, (await h.Evm.RedeemVoucherAsync(OperationId.New(), asVoucher with { Signature = EvmStakeManager.Sign(nodeKey, h.Evm.VoucherDigest(voucher)) }, node.PeerId)).Status); // caught before sending
        Assert.Equal(EconomicStatus.Applied, await RedeemRawAsync(h, node, asVoucher, good));
        await AssertConservedAsync(h);
    }

    [Fact]
    public async Task ThawChannel_NodeRedeemsDuringTheThaw_ClientWithdrawsOnlyTheRestAfterTheWindow()
    {
        await using var h = await EvmHarness.StartAsync(chain);
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(1));
        await h.FundAsync(client.PeerId, Tokens(10));
        Assert.True((await h.Evm.FundChannelAsync(OperationId.New(), client.PeerId, node.PeerId, Tokens(10))).IsApplied);
        var owed = await h.Evm.SignVoucherAsync(client.PeerId, node.PeerId, Tokens(4)); // signed before the client tries to leave

        Assert.True((await h.Evm.ThawChannelAsync(OperationId.New(), client.PeerId, node.PeerId, Tokens(10))).IsApplied);
        Assert.Equal(EconomicStatus.NotYetWithdrawable, (await h.Evm.WithdrawChannelAsync(OperationId.New(), client.PeerId, node.PeerId)).Status);
        Assert.True((await h.Evm.RedeemVoucherAsync(OperationId.New(), owed, node.PeerId)).IsApplied); // the node is paid during the thaw
        await h.AdvanceTimeAsync(h.Parameters.DisputeWindow);
        Assert.True((await h.Evm.WithdrawChannelAsync(OperationId.New(), client.PeerId, node.PeerId)).IsApplied);

        Assert.Equal(Tokens(6), await h.Evm.GetBalanceAsync(client.PeerId)); // 10 − 4 owed
        var channel = await h.Evm.GetChannelAsync(h.Accounts.AddressOf(client.PeerId)!, h.Accounts.AddressOf(node.PeerId)!);
        Assert.Equal(BigInteger.Zero, channel.Funds);
        Assert.Null(channel.ThawEndsAt);
        await AssertConservedAsync(h);
    }

    private static async Task<EconomicStatus> RedeemRawAsync(EvmHarness h, Ed25519KeyPair sender, EvmVoucher voucher, byte[] signature)
    {
        Assert.True(h.Accounts.TryGetKey(sender.PeerId, out var key));
        var function = new RedeemVoucherFunction { Op = OperationId.New().Value.ToByteArray(), Voucher = new VoucherStruct { Client = voucher.Client, Node = voucher.Node, Total = voucher.Total }, Signature = signature };
        return (await h.Evm.Chain.SendAsync(key, function, 0, default)).Status;
    }

    private static async Task AssertConservedAsync(EvmHarness h)
    {
        var totals = await h.Evm.GetTotalsAsync();
        Assert.True(totals.IsConserved);
        Assert.Equal(totals.Supply, await h.Evm.GetContractBalanceAsync());
    }
}
