using Nethereum.Signer;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Evm;

public sealed partial class EvmStakeManager
{
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
}
