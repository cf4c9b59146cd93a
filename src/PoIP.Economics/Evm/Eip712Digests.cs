using System.Numerics;
using System.Text;
using Nethereum.Util;

namespace PoIP.Economics.Evm;

/// <summary>
/// The EIP-712 digests PoIPLedger.sol checks (domain <c>PoIP</c> / <c>1</c> / chain id / contract),
/// computed here by hand from the type strings so a signer never needs the chain. Tested equal to the
/// contract's <c>hashReceipt</c>, <c>hashReceiptBatch</c>, <c>hashVerdict</c>, <c>hashVoucher</c> and <c>domainSeparator</c>.
/// </summary>
internal sealed class Eip712Digests
{
    public const string ReceiptType = "Receipt(bytes32 requestId,bytes32 receiptId,address node,uint256 price)";
    public const string ReceiptBatchType = "ReceiptBatch(address node,Receipt[] receipts)" + ReceiptType;
    public const string VerdictType = "Verdict(bytes32 receiptId,bytes32 requestId,address node,address validator,uint8 outcome)";
    public const string VoucherType = "Voucher(address client,address node,uint256 total)";
    private const string DomainType = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

    public Eip712Digests(BigInteger chainId, string contract)
    {
        DomainSeparator = Keccak(Concat(TypeHash(DomainType), Keccak(Encoding.UTF8.GetBytes("PoIP")), Keccak(Encoding.UTF8.GetBytes("1")), Word(chainId), Address(contract)));
    }

    public byte[] DomainSeparator { get; }

    public static byte[] ReceiptStructHash(ReceiptStruct r) =>
        Keccak(Concat(TypeHash(ReceiptType), Bytes32(r.RequestId), Bytes32(r.ReceiptId), Address(r.Node), Word(r.Price)));

    public byte[] Receipt(ReceiptStruct r) => Typed(ReceiptStructHash(r));

    public byte[] ReceiptBatch(string node, IReadOnlyList<ReceiptStruct> receipts) =>
        Typed(Keccak(Concat(TypeHash(ReceiptBatchType), Address(node), Keccak(Concat([.. receipts.Select(ReceiptStructHash)])))));

    public byte[] Verdict(VerdictStruct v) =>
        Typed(Keccak(Concat(TypeHash(VerdictType), Bytes32(v.ReceiptId), Bytes32(v.RequestId), Address(v.Node), Address(v.Validator), Word(v.Outcome))));

    public byte[] Voucher(VoucherStruct v) =>
        Typed(Keccak(Concat(TypeHash(VoucherType), Address(v.Client), Address(v.Node), Word(v.Total))));

    private byte[] Typed(byte[] structHash) => Keccak(Concat([0x19, 0x01], DomainSeparator, structHash));

    private static byte[] TypeHash(string type) => Keccak(Encoding.UTF8.GetBytes(type));

    private static byte[] Keccak(byte[] data) => Sha3Keccack.Current.CalculateHash(data);

    private static byte[] Concat(params byte[][] parts)
    {
        byte[] result = new byte[parts.Sum(p => p.Length)];
        int offset = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }

        return result;
    }

    private static byte[] Bytes32(byte[] value) =>
        value.Length == 32 ? value : throw new ArgumentException("A bytes32 value must be 32 bytes.", nameof(value));

    /// <summary>A uint256 as a 32-byte big-endian word.</summary>
    internal static byte[] Word(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "uint256 values are not negative.");
        }

        byte[] raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (raw.Length > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "Larger than uint256.");
        }

        byte[] word = new byte[32];
        raw.CopyTo(word, 32 - raw.Length);
        return word;
    }

    private static byte[] Address(string address)
    {
        byte[] raw = Convert.FromHexString(address.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? address[2..] : address);
        if (raw.Length != 20)
        {
            throw new ArgumentException("An address must be 20 bytes.", nameof(address));
        }

        byte[] word = new byte[32];
        raw.CopyTo(word, 12);
        return word;
    }
}
