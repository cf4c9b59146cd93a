using System.Numerics;

namespace PoIP.Economics.Evm;

/// <summary>
/// A Graph-style aggregate voucher: the client's EIP-712 signature over the running total it owes
/// the node on their channel (<c>Voucher(address client,address node,uint256 total)</c>). Totals only
/// grow; redeeming pays the node what the total adds to the last redeemed one.
/// </summary>
/// <param name="Client">The client's account (the signer).</param>
/// <param name="Node">The node's account (paid).</param>
/// <param name="Total">The running total, in wei.</param>
/// <param name="Signature">65 bytes: r, s, v.</param>
public sealed record EvmVoucher(string Client, string Node, BigInteger Total, ReadOnlyMemory<byte> Signature);

/// <summary>A client's channel to a node on PoIPLedger.</summary>
/// <param name="Funds">Still payable to the node, in wei.</param>
/// <param name="Thawing">Part of <paramref name="Funds"/> the client is taking back.</param>
/// <param name="Redeemed">The highest voucher total paid so far.</param>
/// <param name="ThawEndsAt">When the thawing part can be withdrawn (null when nothing thaws).</param>
public sealed record EvmChannel(BigInteger Funds, BigInteger Thawing, BigInteger Redeemed, DateTimeOffset? ThawEndsAt);
