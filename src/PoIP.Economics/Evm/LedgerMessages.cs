using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

#pragma warning disable CA1812 // instantiated by Nethereum's decoder
#pragma warning disable CA1819 // byte[] properties: Nethereum's ABI binding needs them

namespace PoIP.Economics.Evm;

// Hand-written function messages of PoIPLedger.sol (no Nethereum code generator is served).

[Struct("Voucher")]
internal sealed class VoucherStruct
{
    [Parameter("address", "client", 1)]
    public string Client { get; set; } = string.Empty;

    [Parameter("address", "node", 2)]
    public string Node { get; set; } = string.Empty;

    [Parameter("uint256", "total", 3)]
    public BigInteger Total { get; set; }
}

[Struct("Receipt")]
internal sealed class ReceiptStruct
{
    [Parameter("bytes32", "requestId", 1)]
    public byte[] RequestId { get; set; } = [];

    [Parameter("bytes32", "receiptId", 2)]
    public byte[] ReceiptId { get; set; } = [];

    [Parameter("address", "node", 3)]
    public string Node { get; set; } = string.Empty;

    [Parameter("uint256", "price", 4)]
    public BigInteger Price { get; set; }
}

[Struct("Verdict")]
internal sealed class VerdictStruct
{
    [Parameter("bytes32", "receiptId", 1)]
    public byte[] ReceiptId { get; set; } = [];

    [Parameter("bytes32", "requestId", 2)]
    public byte[] RequestId { get; set; } = [];

    [Parameter("address", "node", 3)]
    public string Node { get; set; } = string.Empty;

    [Parameter("address", "validator", 4)]
    public string Validator { get; set; } = string.Empty;

    [Parameter("uint8", "outcome", 5)]
    public byte Outcome { get; set; }
}

[FunctionOutput]
internal sealed class TrancheStruct
{
    [Parameter("uint128", "amount", 1)]
    public BigInteger Amount { get; set; }

    [Parameter("uint64", "releaseAt", 2)]
    public ulong ReleaseAt { get; set; }
}

internal abstract class OperationFunction : FunctionMessage
{
    [Parameter("bytes16", "op", 1)]
    public byte[] Op { get; set; } = [];
}

[Function("bindIdentity")]
internal sealed class BindIdentityFunction : FunctionMessage
{
    [Parameter("bytes", "peerId", 1)]
    public byte[] PeerId { get; set; } = [];

    [Parameter("bytes", "ed25519Signature", 2)]
    public byte[] Signature { get; set; } = [];

    [Parameter("uint64", "deadline", 3)]
    public ulong Deadline { get; set; }
}

[Function("deposit")]
internal sealed class DepositFunction : OperationFunction;

[Function("withdraw")]
internal sealed class WithdrawFunction : OperationFunction
{
    [Parameter("uint256", "amount", 2)]
    public BigInteger Amount { get; set; }
}

[Function("stake")]
internal sealed class StakeFunction : OperationFunction
{
    [Parameter("uint256", "amount", 2)]
    public BigInteger Amount { get; set; }
}

[Function("requestUnbond")]
internal sealed class RequestUnbondFunction : OperationFunction
{
    [Parameter("uint256", "amount", 2)]
    public BigInteger Amount { get; set; }
}

[Function("withdrawUnbonded")]
internal sealed class WithdrawUnbondedFunction : OperationFunction;

[Function("registerValidator")]
internal sealed class RegisterValidatorFunction : OperationFunction;

[Function("openEscrow")]
internal sealed class OpenEscrowFunction : OperationFunction
{
    [Parameter("bytes32", "requestId", 2)]
    public byte[] RequestId { get; set; } = [];

    [Parameter("bytes32", "group", 3)]
    public byte[] Group { get; set; } = new byte[32];

    [Parameter("address", "node", 4)]
    public string Node { get; set; } = string.Empty;

    [Parameter("uint256", "cap", 5)]
    public BigInteger Cap { get; set; }
}

[Function("settle")]
internal sealed class SettleFunction : OperationFunction
{
    [Parameter("tuple", "receipt", 2)]
    public ReceiptStruct Receipt { get; set; } = new();

    [Parameter("bytes", "signature", 3)]
    public byte[] Signature { get; set; } = [];
}

[Function("settleBatch")]
internal sealed class SettleBatchFunction : OperationFunction
{
    [Parameter("address", "node", 2)]
    public string Node { get; set; } = string.Empty;

    [Parameter("tuple[]", "receipts", 3)]
    public List<ReceiptStruct> Receipts { get; set; } = [];

    [Parameter("bytes", "signature", 4)]
    public byte[] Signature { get; set; } = [];
}

[Function("refundEscrow")]
internal sealed class RefundEscrowFunction : OperationFunction
{
    [Parameter("bytes32", "requestId", 2)]
    public byte[] RequestId { get; set; } = [];
}

[Function("slashByVerdict")]
internal sealed class SlashByVerdictFunction : OperationFunction
{
    [Parameter("tuple", "verdict", 2)]
    public VerdictStruct Verdict { get; set; } = new();

    [Parameter("bytes", "signature", 3)]
    public byte[] Signature { get; set; } = [];
}

[Function("slashByEquivocation")]
internal sealed class SlashByEquivocationFunction : OperationFunction
{
    [Parameter("tuple", "first", 2)]
    public ReceiptStruct First { get; set; } = new();

    [Parameter("bytes", "firstSignature", 3)]
    public byte[] FirstSignature { get; set; } = [];

    [Parameter("tuple", "second", 4)]
    public ReceiptStruct Second { get; set; } = new();

    [Parameter("bytes", "secondSignature", 5)]
    public byte[] SecondSignature { get; set; } = [];
}

[Function("proposeParameter", "uint256")]
internal sealed class ProposeParameterFunction : OperationFunction
{
    [Parameter("uint8", "parameter", 2)]
    public byte Parameter { get; set; }

    [Parameter("uint256", "value", 3)]
    public BigInteger Value { get; set; }
}

[Function("vote")]
internal sealed class VoteFunction : OperationFunction
{
    [Parameter("uint256", "id", 2)]
    public BigInteger Id { get; set; }

    [Parameter("bool", "support", 3)]
    public bool Support { get; set; }
}

[Function("execute")]
internal sealed class ExecuteFunction : OperationFunction
{
    [Parameter("uint256", "id", 2)]
    public BigInteger Id { get; set; }
}

// ---- views ----

[Function("balanceOf", "uint256")]
internal sealed class BalanceOfFunction : FunctionMessage
{
    [Parameter("address", "account", 1)]
    public string Account { get; set; } = string.Empty;
}

[Function("bondedOf", "uint256")]
internal sealed class BondedOfFunction : FunctionMessage
{
    [Parameter("address", "account", 1)]
    public string Account { get; set; } = string.Empty;
}

[Function("isValidator", "bool")]
internal sealed class IsValidatorFunction : FunctionMessage
{
    [Parameter("address", "account", 1)]
    public string Account { get; set; } = string.Empty;
}

[Function("tranchesOf", typeof(TranchesOutput))]
internal sealed class TranchesOfFunction : FunctionMessage
{
    [Parameter("address", "node", 1)]
    public string Node { get; set; } = string.Empty;
}

[FunctionOutput]
internal sealed class TranchesOutput : IFunctionOutputDTO
{
    [Parameter("tuple[]", "", 1)]
    public List<TrancheStruct> Tranches { get; set; } = [];
}

[Function("escrows", typeof(EscrowOutput))]
internal sealed class EscrowsFunction : FunctionMessage
{
    [Parameter("bytes32", "requestId", 1)]
    public byte[] RequestId { get; set; } = [];
}

[FunctionOutput]
internal sealed class EscrowOutput : IFunctionOutputDTO
{
    [Parameter("address", "client", 1)]
    public string Client { get; set; } = string.Empty;

    [Parameter("uint64", "openedAt", 2)]
    public ulong OpenedAt { get; set; }

    [Parameter("uint8", "state", 3)]
    public byte State { get; set; }

    [Parameter("uint8", "grouping", 4)]
    public byte Grouping { get; set; }

    [Parameter("address", "node", 5)]
    public string Node { get; set; } = string.Empty;

    [Parameter("uint128", "cap", 6)]
    public BigInteger Cap { get; set; }

    [Parameter("uint128", "price", 7)]
    public BigInteger Price { get; set; }

    [Parameter("bytes32", "group", 8)]
    public byte[] Group { get; set; } = [];
}

[Function("totals", "uint256[7]")]
internal sealed class TotalsFunction : FunctionMessage;

[Function("getParameters", "uint256[12]")]
internal sealed class GetParametersFunction : FunctionMessage;

[Function("requireRegisteredValidator", "bool")]
internal sealed class RequireRegisteredValidatorFunction : FunctionMessage;

[Function("domainSeparator", "bytes32")]
internal sealed class DomainSeparatorFunction : FunctionMessage;

[Function("hashReceipt", "bytes32")]
internal sealed class HashReceiptFunction : FunctionMessage
{
    [Parameter("tuple", "r", 1)]
    public ReceiptStruct Receipt { get; set; } = new();
}

[Function("hashReceiptBatch", "bytes32")]
internal sealed class HashReceiptBatchFunction : FunctionMessage
{
    [Parameter("address", "node", 1)]
    public string Node { get; set; } = string.Empty;

    [Parameter("tuple[]", "receipts", 2)]
    public List<ReceiptStruct> Receipts { get; set; } = [];
}

[Function("hashVerdict", "bytes32")]
internal sealed class HashVerdictFunction : FunctionMessage
{
    [Parameter("tuple", "v", 1)]
    public VerdictStruct Verdict { get; set; } = new();
}

[Function("peerOf", "bytes32")]
internal sealed class PeerOfFunction : FunctionMessage
{
    [Parameter("address", "account", 1)]
    public string Account { get; set; } = string.Empty;
}

// ---- events ----

[Event("IdentityBound")]
internal sealed class IdentityBoundEvent : IEventDTO
{
    [Parameter("address", "account", 1, true)]
    public string Account { get; set; } = string.Empty;

    [Parameter("bytes32", "peerIdHash", 2, true)]
    public byte[] PeerIdHash { get; set; } = [];

    [Parameter("bytes", "peerId", 3, false)]
    public byte[] PeerId { get; set; } = [];

    [Parameter("bytes", "ed25519Signature", 4, false)]
    public byte[] Ed25519Signature { get; set; } = [];

    [Parameter("uint64", "deadline", 5, false)]
    public ulong Deadline { get; set; }
}

// ---- aggregate vouchers ----

[Function("fundChannel")]
internal sealed class FundChannelFunction : OperationFunction
{
    [Parameter("address", "node", 2)]
    public string Node { get; set; } = string.Empty;

    [Parameter("uint256", "amount", 3)]
    public BigInteger Amount { get; set; }
}

[Function("redeemVoucher")]
internal sealed class RedeemVoucherFunction : OperationFunction
{
    [Parameter("tuple", "voucher", 2)]
    public VoucherStruct Voucher { get; set; } = new();

    [Parameter("bytes", "signature", 3)]
    public byte[] Signature { get; set; } = [];
}

[Function("thawChannel")]
internal sealed class ThawChannelFunction : OperationFunction
{
    [Parameter("address", "node", 2)]
    public string Node { get; set; } = string.Empty;

    [Parameter("uint256", "amount", 3)]
    public BigInteger Amount { get; set; }
}

[Function("withdrawChannel")]
internal sealed class WithdrawChannelFunction : OperationFunction
{
    [Parameter("address", "node", 2)]
    public string Node { get; set; } = string.Empty;
}

[Function("channels", typeof(ChannelOutput))]
internal sealed class ChannelsFunction : FunctionMessage
{
    [Parameter("address", "client", 1)]
    public string Client { get; set; } = string.Empty;

    [Parameter("address", "node", 2)]
    public string Node { get; set; } = string.Empty;
}

[FunctionOutput]
internal sealed class ChannelOutput : IFunctionOutputDTO
{
    [Parameter("uint128", "funds", 1)]
    public BigInteger Funds { get; set; }

    [Parameter("uint128", "thawing", 2)]
    public BigInteger Thawing { get; set; }

    [Parameter("uint256", "redeemed", 3)]
    public BigInteger Redeemed { get; set; }

    [Parameter("uint64", "thawEndsAt", 4)]
    public ulong ThawEndsAt { get; set; }
}

[Function("hashVoucher", "bytes32")]
internal sealed class HashVoucherFunction : FunctionMessage
{
    [Parameter("tuple", "v", 1)]
    public VoucherStruct Voucher { get; set; } = new();
}
