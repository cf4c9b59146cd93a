using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;
using PoIP.TestUtils;
using PoIP.TestUtils.Dht;

namespace PoIP.Core.Tests.Ledger;

public sealed class TransactionRecordSetTests
{
    private static readonly Ed25519KeyPair Client = Ed25519KeyPair.Generate();
    private static readonly Ed25519KeyPair[] Nodes = [.. Enumerable.Range(0, 6).Select(_ => Ed25519KeyPair.Generate())];
    private static readonly SignedMessage<InferenceRequest> Request = TransactionRecords.Request(Client);
    private static readonly SignedMessage<InferenceReceipt>[][] Receipts = [.. Nodes.Select(n => new[] { TransactionRecords.Receipt(n, Request, 0), TransactionRecords.Receipt(n, Request, 1) })];

    /// <summary>
    /// Every record the properties draw from: the client's pending record and two completed ones (naming nodes 0
    /// and 1), and for each node its receipt 0, the same receipt re-signed later, and a conflicting receipt 1.
    /// </summary>
    private static readonly SignedMessage<TransactionRecord>[] Pool =
    [
        TransactionRecords.ClientRecord(Client, Request, null),
        TransactionRecords.ClientRecord(Client, Request, Receipts[0][0], 1),
        TransactionRecords.ClientRecord(Client, Request, Receipts[1][0], 2),
        .. Nodes.SelectMany((n, i) => new[]
        {
            TransactionRecords.NodeRecord(n, Request, Receipts[i][0]),
            TransactionRecords.NodeRecord(n, Request, Receipts[i][0], 3),
            TransactionRecords.NodeRecord(n, Request, Receipts[i][1], 4),
        }),
    ];

    private static Arbitrary<TransactionRecordSet> Sets() =>
        Gen.SubListOf(Pool).Where(l => l.Count > 0).Select(l => TransactionRecordSet.Create(l)).ToArbitrary();

    private static HashSet<PeerId> Equivocators(TransactionRecordSet set) => [.. set.FindEquivocations().Select(e => e.AccusedId)];

    [Fact]
    public void EncodeThenDecode_ClientAndNodeRecords_SameRecordsAndBytes()
    {
        var set = TransactionRecordSet.Create([Pool[1], Pool[3], Pool[0]]);
        byte[] bytes = set.Encode();
        var decoded = TransactionRecordSet.Decode(bytes);
        Assert.Equal(set.Records.Select(r => r.Hash), decoded.Records.Select(r => r.Hash));
        Assert.Equal(bytes, decoded.Encode());
        Assert.Equal(3, decoded.Records.Count);
    }

    [Fact]
    public void Create_NodeRecordSignedByAnotherPeer_Refused()
    {
        var forged = TransactionRecords.Record(Nodes[1], Request, Receipts[0][0], TransactionRole.Node);
        Assert.Contains("node whose receipt", TransactionRecordSet.CheckParty(forged), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => TransactionRecordSet.Create([forged]));
    }

    [Theory]
    [InlineData(TransactionRole.Client)]
    [InlineData(TransactionRole.Validator)]
    public void CheckParty_ClientOrValidatorRoleNotTheClient_Refused(TransactionRole role)
    {
        var record = TransactionRecords.Record(Nodes[0], Request, Receipts[0][0], role);
        Assert.NotNull(TransactionRecordSet.CheckParty(record));
    }

    [Fact]
    public void CheckParty_NodeRecordWithoutReceipt_Refused() =>
        Assert.Contains("receipt", TransactionRecordSet.CheckParty(TransactionRecords.Record(Nodes[0], Request, null, TransactionRole.Node)), StringComparison.Ordinal);

    [Fact]
    public void CheckParty_ReceiptForAnotherRequest_Refused()
    {
        var other = TransactionRecords.Request(Client, nonce: 2);
        var record = TransactionRecords.NodeRecord(Nodes[0], Request, TransactionRecords.Receipt(Nodes[0], other));
        Assert.Contains("another request", TransactionRecordSet.CheckParty(record), StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_UnsortedOrDuplicated_RefusedAsNotCanonical()
    {
        var set = TransactionRecordSet.Create([Pool[0], Pool[3]]);
        var reversed = new TransactionRecordSetProto { Version = 1 };
        reversed.Records.Add(set.Records.Reverse().Select(r => ByteString.CopyFrom(r.Envelope.Encoded.Span)));
        var duplicated = new TransactionRecordSetProto { Version = 1 };
        duplicated.Records.Add(ByteString.CopyFrom(Pool[0].Envelope.Encoded.Span));
        duplicated.Records.Add(ByteString.CopyFrom(Pool[0].Envelope.Encoded.Span));
        Assert.Contains("canonical", Assert.Throws<PoIPDecodeException>(() => TransactionRecordSet.Decode(reversed.ToByteArray())).Message, StringComparison.Ordinal);
        Assert.Contains("canonical", Assert.Throws<PoIPDecodeException>(() => TransactionRecordSet.Decode(duplicated.ToByteArray())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_TooManyRecords_Refused()
    {
        var proto = new TransactionRecordSetProto { Version = 1 };
        proto.Records.Add(Pool.Take(TransactionRecordSet.MaxRecords + 1).Select(r => ByteString.CopyFrom(r.Envelope.Encoded.Span)));
        Assert.Throws<PoIPDecodeException>(() => TransactionRecordSet.Decode(proto.ToByteArray()));
    }

    [Fact]
    public void Decode_Oversize_RefusedBeforeParsing()
    {
        var error = Assert.Throws<PoIPDecodeException>(() => TransactionRecordSet.Decode(new byte[TransactionRecordSet.MaxEncodedLength + 1]));
        Assert.Equal(DecodeErrorKind.Oversize, error.Kind);
    }

    [Fact]
    public void Decode_TamperedSignature_Refused()
    {
        var proto = new TransactionRecordSetProto { Version = 1 };
        byte[] envelope = Pool[0].Envelope.Encoded.ToArray();
        envelope[^1] ^= 1;
        proto.Records.Add(ByteString.CopyFrom(envelope));
        Assert.Throws<SignatureException>(() => TransactionRecordSet.Decode(proto.ToByteArray()));
    }

    [Property(MaxTest = 300)]
    public bool Decode_MutatedSet_DecodesOrTypedError(int position, byte value)
    {
        byte[] bytes = TransactionRecordSet.Create([Pool[0], Pool[3]]).Encode();
        bytes[(int)((uint)position % bytes.Length)] ^= (byte)(value | 1);
        try
        {
            TransactionRecordSet.Decode(bytes);
            return true;
        }
        catch (PoIPException)
        {
            return true;
        }
    }

    [Fact]
    public void Classify_SecondReceiptFromSameNode_ConflictWithEquivocationEvidence()
    {
        var set = TransactionRecordSet.Create([Pool[3]]);
        var result = set.Classify(Pool[5]);
        Assert.Equal(LedgerPutStatus.Conflict, result.Status);
        var evidence = result.Equivocation!;
        Assert.Equal(EvidenceKind.Equivocation, evidence.Kind);
        Assert.Equal(Nodes[0].PeerId, evidence.AccusedId);
        Assert.Equal(Pool[3].Envelope.Encoded.ToArray(), evidence.First.ToArray());
        Assert.Equal(Pool[5].Envelope.Encoded.ToArray(), evidence.Second.ToArray());
    }

    [Fact]
    public void Classify_SameReceiptResignedOrSameRecord_Duplicate()
    {
        var set = TransactionRecordSet.Create([Pool[3]]);
        Assert.Equal(LedgerPutStatus.Duplicate, set.Classify(Pool[3]).Status);
        Assert.Equal(LedgerPutStatus.Duplicate, set.Classify(Pool[4]).Status);
        Assert.Equal(LedgerPutStatus.Stored, set.Classify(Pool[1]).Status);
    }

    [Fact]
    public void Classify_ClientPendingThenCompleted_StoredNotConflict() =>
        Assert.Equal(LedgerPutStatus.Stored, TransactionRecordSet.Create([Pool[0]]).Classify(Pool[1]).Status);

    [Fact]
    public void CheckTimes_ExpiredOrFutureDated_Refused()
    {
        var set = TransactionRecordSet.Create([Pool[0]]);
        var timing = TransactionRecordTiming.Default;
        Assert.Null(set.CheckTimes(SampleMessages.Now, timing));
        Assert.Contains("expired", set.CheckTimes(SampleMessages.Now.AddDays(8), timing), StringComparison.Ordinal);
        Assert.Contains("future", set.CheckTimes(SampleMessages.Now.AddDays(-2), timing), StringComparison.Ordinal);
        var late = TransactionRecordSet.Create([TransactionRecords.ClientRecord(Client, Request, null, minutesAfter: 60)]);
        Assert.Contains("future", late.CheckTimes(SampleMessages.Now, timing), StringComparison.Ordinal);
    }

    [Property(MaxTest = 200)]
    public Property EncodeThenDecode_AnySet_SameRecordsSameBytes() =>
        Prop.ForAll(Sets(), set =>
        {
            byte[] bytes = set.Encode();
            var decoded = TransactionRecordSet.Decode(bytes);
            return decoded.Records.Select(r => r.Hash).SequenceEqual(set.Records.Select(r => r.Hash)) && decoded.Encode().AsSpan().SequenceEqual(bytes);
        });

    [Property(MaxTest = 200)]
    public Property Merge_IsCommutative() =>
        Prop.ForAll(Sets(), Sets(), (a, b) => a.Merge(b).Encode().AsSpan().SequenceEqual(b.Merge(a).Encode()));

    [Property(MaxTest = 200)]
    public Property Merge_IsIdempotent() =>
        Prop.ForAll(Sets(), Sets(), (a, b) =>
        {
            var ab = a.Merge(b);
            return a.Merge(a).Encode().AsSpan().SequenceEqual(a.Encode()) && ab.Merge(ab).Encode().AsSpan().SequenceEqual(ab.Encode());
        });

    [Property(MaxTest = 200)]
    public Property Merge_StaysWithinBounds() =>
        Prop.ForAll(Sets(), Sets(), (a, b) =>
        {
            var m = a.Merge(b);
            return m.Records.Count <= TransactionRecordSet.MaxRecords
                && m.Encode().Length <= TransactionRecordSet.MaxEncodedLength
                && m.Records.GroupBy(r => (r.Signer, r.Message.Role)).All(g => g.Count() <= 2)
                && TransactionRecordSet.Decode(m.Encode()).Records.Count == m.Records.Count;
        });

    [Property(MaxTest = 200)]
    public Property Merge_NeverLosesAnEquivocation_WhileAtMostThreeNodesEquivocate() =>
        Prop.ForAll(Sets(), Sets(), (a, b) =>
        {
            // every node with two different receipts among all records of both sets (a merge can create a conflict)
            var before = a.Records.Concat(b.Records).Where(r => r.Message.Role == TransactionRole.Node)
                .GroupBy(r => r.Signer).Where(g => g.Select(r => r.Message.ReceiptEnvelope.ToArray()).DistinctBy(Convert.ToHexString).Count() > 1)
                .Select(g => g.Key).ToHashSet();
            var after = Equivocators(a.Merge(b));
            return (before.Count > 3 || before.IsSubsetOf(after)).Label($"before {before.Count}, after {after.Count}")
                .And(after.Count >= Math.Min(before.Count, 3));
        });

    [Property(MaxTest = 200)]
    public Property Merge_KeepsTheClientsRecords() =>
        Prop.ForAll(Sets(), Sets(), (a, b) =>
        {
            var clientBefore = a.Records.Concat(b.Records).Any(r => r.Message.Role == TransactionRole.Client);
            return !clientBefore || a.Merge(b).Records.Any(r => r.Message.Role == TransactionRole.Client);
        });

    [Fact]
    public void Create_LargeReceipts_StopsAtTheByteBoundKeepingClientAndConflicts()
    {
        // receipts with the largest commitments (240 KiB): a record is ~241 KiB; the client's record and one pair take
        // ~723 KiB, so no second pair fits in 1 MiB (the count bound alone would allow 8 records)
        var big = Nodes.Take(3).Select(n => new[] { 0, 1 }.Select(v => SignedMessage.Create(n, TransactionRecords.Receipt(n, Request, v).Message with { Commitment = new byte[InferenceReceipt.MaxCommitmentLength] })).ToArray()).ToArray();
        var records = new List<SignedMessage<TransactionRecord>> { TransactionRecords.ClientRecord(Client, Request, big[0][0]) };
        for (int i = 0; i < 3; i++)
        {
            records.Add(TransactionRecords.NodeRecord(Nodes[i], Request, big[i][0]));
            records.Add(TransactionRecords.NodeRecord(Nodes[i], Request, big[i][1]));
        }

        var set = TransactionRecordSet.Create(records);
        Assert.True(set.Encode().Length <= TransactionRecordSet.MaxEncodedLength);
        Assert.Equal(3, set.Records.Count); // the client's record and the named node's conflicting pair; the rest did not fit
        Assert.Contains(set.Records, r => r.Message.Role == TransactionRole.Client);
        Assert.Equal(Nodes[0].PeerId, Assert.Single(set.FindEquivocations()).AccusedId);
        Assert.Equal(set.Encode(), TransactionRecordSet.Decode(set.Encode()).Encode());
    }

    [Fact]
    public void Merge_EveryNodeEquivocates_BoundedAndClientKept()
    {
        var set = TransactionRecordSet.Create(Pool);
        Assert.Equal(TransactionRecordSet.MaxRecords, set.Records.Count);
        Assert.Equal(2, set.Records.Count(r => r.Message.Role == TransactionRole.Client));
        Assert.Equal(3, set.FindEquivocations().Count);

        // the node the kept completed client record names ranks first among the equivocators
        var named = set.Records.Where(r => r.Message.Role == TransactionRole.Client && !r.Message.ReceiptEnvelope.IsEmpty)
            .Select(r => SignedMessage.Open<InferenceReceipt>(r.Message.ReceiptEnvelope).Signer);
        Assert.All(named, n => Assert.Contains(n, Equivocators(set)));
    }
}
