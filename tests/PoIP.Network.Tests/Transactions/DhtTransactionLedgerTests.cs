using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Network.Transactions;
using PoIP.TestUtils.Dht;

namespace PoIP.Network.Tests.Transactions;

public sealed class DhtTransactionLedgerTests
{
    private static readonly Ed25519KeyPair Client = Ed25519KeyPair.Generate();
    private static readonly Ed25519KeyPair Node = Ed25519KeyPair.Generate();
    private static readonly SignedMessage<InferenceRequest> Request = TransactionRecords.Request(Client);
    private static readonly SignedMessage<InferenceReceipt> ReceiptA = TransactionRecords.Receipt(Node, Request, 0);
    private static readonly SignedMessage<InferenceReceipt> ReceiptB = TransactionRecords.Receipt(Node, Request, 1);
    private static readonly RequestId Id = new(Request.Hash);

    [Fact]
    public async Task PutAsync_ClientRecord_StoredOnClosestPeersAndFoundFromAnother()
    {
        var net = new DhtTestNetwork(peers: 6);
        var result = await net.Ledger(0).PutAsync(TransactionRecords.ClientRecord(Client, Request, ReceiptA));
        Assert.Equal(LedgerPutStatus.Stored, result.Status);
        Assert.Equal(5, result.Asked);
        Assert.Equal(5, result.Confirmed);
        var found = await net.Ledger(3).GetAsync(Id);
        Assert.Single(found);
        Assert.Equal(TransactionRole.Client, found[0].Message.Role);
    }

    [Fact]
    public async Task PutAsync_NodeSignsSecondReceipt_ConflictWithEvidenceAndBothRecordsSurvive()
    {
        var net = new DhtTestNetwork(peers: 5);
        var first = TransactionRecords.NodeRecord(Node, Request, ReceiptA);
        var second = TransactionRecords.NodeRecord(Node, Request, ReceiptB);
        Assert.Equal(LedgerPutStatus.Stored, (await net.Ledger(1).PutAsync(first)).Status);
        var result = await net.Ledger(2).PutAsync(second);
        Assert.Equal(LedgerPutStatus.Conflict, result.Status);
        Assert.Equal(EvidenceKind.Equivocation, result.Equivocation!.Kind);
        Assert.Equal(Node.PeerId, result.Equivocation.AccusedId);
        var all = await net.Ledger(4).GetAsync(Id);
        Assert.Equal(new HashSet<Sha256Digest> { first.Hash, second.Hash }, all.Select(r => r.Hash).ToHashSet());
        Assert.All(net.Peers, p => Assert.Equal(2, TransactionRecordSet.Decode(p.Stored(PoIPRecordKeys.Transaction(Id))).Records.Count));
    }

    [Fact]
    public async Task PutAsync_SameRecordTwice_Duplicate()
    {
        var net = new DhtTestNetwork(peers: 3);
        var record = TransactionRecords.NodeRecord(Node, Request, ReceiptA);
        await net.Ledger(0).PutAsync(record);
        Assert.Equal(LedgerPutStatus.Duplicate, (await net.Ledger(1).PutAsync(record)).Status);
        Assert.Equal(LedgerPutStatus.Duplicate, (await net.Ledger(1).PutAsync(TransactionRecords.NodeRecord(Node, Request, ReceiptA, 5))).Status);
    }

    [Fact]
    public async Task PutAsync_NobodyElseConfirms_UnconfirmedBelowQuorum()
    {
        var net = new DhtTestNetwork(peers: 3);
        net.Peers[1].Online = false;
        net.Peers[2].Online = false;
        var result = await net.Ledger(0, quorum: 1).PutAsync(TransactionRecords.ClientRecord(Client, Request, null));
        Assert.Equal(LedgerPutStatus.Unconfirmed, result.Status);
        Assert.Equal(0, result.Confirmed);
        Assert.Contains("quorum", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutAsync_RecordSignedByNonParty_RejectedAndNothingStored()
    {
        var net = new DhtTestNetwork(peers: 3);
        var forged = TransactionRecords.Record(Ed25519KeyPair.Generate(), Request, ReceiptA, TransactionRole.Node);
        var result = await net.Ledger(0).PutAsync(forged);
        Assert.Equal(LedgerPutStatus.Rejected, result.Status);
        Assert.All(net.Peers, p => Assert.Null(p.Stored(PoIPRecordKeys.Transaction(Id))));
    }

    [Fact]
    public async Task ReceivePut_PeerSendsSmallerSet_EvidenceNotErased()
    {
        var net = new DhtTestNetwork(peers: 3);
        await net.Ledger(0).PutAsync(TransactionRecords.NodeRecord(Node, Request, ReceiptA));
        await net.Ledger(0).PutAsync(TransactionRecords.NodeRecord(Node, Request, ReceiptB));
        byte[] key = PoIPRecordKeys.Transaction(Id);

        // the cheating node re-puts a set holding only its first receipt, straight to every peer
        byte[] onlyFirst = TransactionRecordSet.Create([TransactionRecords.NodeRecord(Node, Request, ReceiptA)]).Encode();
        foreach (var peer in net.Peers)
        {
            Assert.True(await peer.ReceivePutAsync(key, onlyFirst));
        }

        Assert.All(net.Peers, p => Assert.Single(TransactionRecordSet.Decode(p.Stored(key)).FindEquivocations()));
    }

    [Fact]
    public async Task GetAsync_PeersHoldDifferentRecords_ReturnsTheUnion()
    {
        var net = new DhtTestNetwork(peers: 4);
        byte[] key = PoIPRecordKeys.Transaction(Id);
        await net.Peers[1].ReceivePutAsync(key, TransactionRecordSet.Create([TransactionRecords.ClientRecord(Client, Request, null)]).Encode());
        await net.Peers[2].ReceivePutAsync(key, TransactionRecordSet.Create([TransactionRecords.NodeRecord(Node, Request, ReceiptA)]).Encode());
        var set = await net.Ledger(0).GetSetAsync(Id);
        Assert.NotNull(set);
        Assert.Equal(2, set.Records.Count);
    }

    [Fact]
    public async Task GetAsync_Unknown_Empty() =>
        Assert.Empty(await new DhtTestNetwork(peers: 2).Ledger(0).GetAsync(Id));
}
