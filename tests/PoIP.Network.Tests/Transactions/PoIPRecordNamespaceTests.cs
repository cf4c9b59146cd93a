using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Network.Transactions;
using PoIP.TestUtils;
using PoIP.TestUtils.Dht;

namespace PoIP.Network.Tests.Transactions;

public sealed class PoIPRecordNamespaceTests
{
    private static readonly Ed25519KeyPair Client = Ed25519KeyPair.Generate();
    private static readonly Ed25519KeyPair Node = Ed25519KeyPair.Generate();
    private static readonly SignedMessage<InferenceRequest> Request = TransactionRecords.Request(Client);
    private static readonly SignedMessage<InferenceReceipt> ReceiptA = TransactionRecords.Receipt(Node, Request, 0);
    private static readonly SignedMessage<InferenceReceipt> ReceiptB = TransactionRecords.Receipt(Node, Request, 1);
    private static readonly DateTimeOffset Now = SampleMessages.Now;
    private readonly PoIPRecordNamespace _ns = new();

    private static byte[] TxKey => PoIPRecordKeys.Transaction(new RequestId(Request.Hash));

    private static byte[] Set(params SignedMessage<TransactionRecord>[] records) => TransactionRecordSet.Create(records).Encode();

    internal static SignedMessage<CapabilityRecord> Capability(Ed25519KeyPair signer, PeerId node, ulong sequence = 1, int lifetimeHours = 1, int issuedMinutesAfter = 0) =>
        SignedMessage.Create(signer, new CapabilityRecord
        {
            NodeId = node,
            ModelId = Request.Message.ModelId,
            Engine = new EngineIdentity("llama.cpp", "b1", "cpu", "avx2", false, "f16", 512),
            PricePerToken = TokenAmount.ParseTokens("0.0001"),
            KnownAnswer = KnownAnswerResult.Passed,
            TokensPerSecond = 50,
            Sequence = sequence,
            IssuedAt = Now.AddMinutes(issuedMinutesAfter),
            ExpiresAt = Now.AddMinutes(issuedMinutesAfter).AddHours(lifetimeHours),
        });

    [Fact]
    public void Validate_ClientAndNodeRecords_Valid() =>
        Assert.True(_ns.Validate(TxKey, Set(TransactionRecords.ClientRecord(Client, Request, null), TransactionRecords.NodeRecord(Node, Request, ReceiptA)), Now).IsValid);

    [Fact]
    public void Validate_SetUnderAnotherRequestsKey_Refused()
    {
        byte[] otherKey = PoIPRecordKeys.Transaction(new RequestId(TransactionRecords.Request(Client, nonce: 9).Hash));
        var verdict = _ns.Validate(otherKey, Set(TransactionRecords.ClientRecord(Client, Request, null)), Now);
        Assert.False(verdict.IsValid);
        Assert.Contains("another request", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ExpiredOrFutureDated_Refused()
    {
        byte[] value = Set(TransactionRecords.ClientRecord(Client, Request, null));
        Assert.False(_ns.Validate(TxKey, value, Now.AddDays(8)).IsValid);
        Assert.False(_ns.Validate(TxKey, value, Now.AddDays(-2)).IsValid);
    }

    [Theory]
    [InlineData("/poip/other/abc")]
    [InlineData("/poip/tx/ABCDEF")]
    [InlineData("/poip/cap/not-a-peer")]
    public void Validate_NotAPoIPRecordKey_Refused(string key) =>
        Assert.False(_ns.Validate(System.Text.Encoding.ASCII.GetBytes(key), Set(TransactionRecords.ClientRecord(Client, Request, null)), Now).IsValid);

    [Fact]
    public void Validate_UpperCaseHexKey_Refused() =>
        Assert.False(_ns.Validate(System.Text.Encoding.ASCII.GetBytes("/poip/tx/" + Request.Hash.ToString().ToUpperInvariant()), Set(TransactionRecords.ClientRecord(Client, Request, null)), Now).IsValid);

    [Fact]
    public void Validate_GarbageOrOversize_RefusedWithoutThrowing()
    {
        Assert.False(_ns.Validate(TxKey, [1, 2, 3], Now).IsValid);
        Assert.False(_ns.Validate(TxKey, new byte[TransactionRecordSet.MaxEncodedLength + 1], Now).IsValid);
        Assert.False(_ns.Validate(PoIPRecordKeys.Capability(Node.PeerId), new byte[5000], Now).IsValid);
    }

    [Fact]
    public void Merge_TwoSets_UnionKeepsBothReceipts()
    {
        byte[] merged = _ns.Merge(TxKey, Set(TransactionRecords.NodeRecord(Node, Request, ReceiptA)), Set(TransactionRecords.NodeRecord(Node, Request, ReceiptB)))!;
        var set = TransactionRecordSet.Decode(merged);
        Assert.Equal(2, set.Records.Count);
        Assert.Single(set.FindEquivocations());
    }

    [Fact]
    public void SelectBest_TransactionSets_TheLargerSet()
    {
        byte[] small = Set(TransactionRecords.NodeRecord(Node, Request, ReceiptA));
        byte[] large = Set(TransactionRecords.NodeRecord(Node, Request, ReceiptA), TransactionRecords.ClientRecord(Client, Request, null));
        Assert.Equal(1, _ns.SelectBest(TxKey, [small, large]));
        Assert.Equal(0, _ns.SelectBest(TxKey, [large, small]));
    }

    [Fact]
    public void Validate_Capability_ValidOnlyUnderItsSignersKey()
    {
        byte[] value = Capability(Node, Node.PeerId).Envelope.Encoded.ToArray();
        Assert.True(_ns.Validate(PoIPRecordKeys.Capability(Node.PeerId), value, Now).IsValid);
        Assert.False(_ns.Validate(PoIPRecordKeys.Capability(Client.PeerId), value, Now).IsValid);
    }

    [Fact]
    public void Validate_CapabilityNamingAnotherNode_Refused()
    {
        byte[] value = Capability(Client, Node.PeerId).Envelope.Encoded.ToArray();
        Assert.False(_ns.Validate(PoIPRecordKeys.Capability(Node.PeerId), value, Now).IsValid);
    }

    [Fact]
    public void Validate_CapabilityExpiredFutureOrTooLong_Refused()
    {
        byte[] key = PoIPRecordKeys.Capability(Node.PeerId);
        Assert.False(_ns.Validate(key, Capability(Node, Node.PeerId).Envelope.Encoded.Span, Now.AddHours(2)).IsValid);
        Assert.False(_ns.Validate(key, Capability(Node, Node.PeerId, issuedMinutesAfter: 30).Envelope.Encoded.Span, Now).IsValid);
        Assert.False(_ns.Validate(key, Capability(Node, Node.PeerId, lifetimeHours: 49).Envelope.Encoded.Span, Now).IsValid);
    }

    [Fact]
    public void SelectBest_Capabilities_HighestSequence()
    {
        byte[] key = PoIPRecordKeys.Capability(Node.PeerId);
        ReadOnlyMemory<byte> v1 = Capability(Node, Node.PeerId, 1).Envelope.Encoded, v7 = Capability(Node, Node.PeerId, 7).Envelope.Encoded, v3 = Capability(Node, Node.PeerId, 3).Envelope.Encoded;
        Assert.Equal(1, _ns.SelectBest(key, [v1, v7, v3]));
        Assert.Null(_ns.Merge(key, v1.Span, v7.Span));
    }
}
