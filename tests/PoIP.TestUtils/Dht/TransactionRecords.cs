using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Protocol;

namespace PoIP.TestUtils.Dht;

/// <summary>Signed requests, receipts and transaction records for ledger and DHT tests (times around <see cref="SampleMessages.Now"/>).</summary>
public static class TransactionRecords
{
    /// <summary>A request signed by <paramref name="client"/>, expiring at <paramref name="expiresAt"/> (default: 5 min after <see cref="SampleMessages.Now"/>).</summary>
    public static SignedMessage<InferenceRequest> Request(Ed25519KeyPair client, ulong nonce = 1, DateTimeOffset? expiresAt = null)
    {
        var request = SampleMessages.Request(client.PeerId, nonce: nonce);
        return SignedMessage.Create(client, expiresAt is { } at ? request with { ExpiresAt = at } : request);
    }

    /// <summary>A receipt for <paramref name="request"/> signed by <paramref name="node"/>; each <paramref name="variant"/> claims another output.</summary>
    public static SignedMessage<InferenceReceipt> Receipt(Ed25519KeyPair node, SignedMessage<InferenceRequest> request, int variant = 0)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(request);
        var receipt = SampleMessages.Receipt(node.PeerId, new RequestId(request.Hash), request.Message) with
        {
            OutputRoot = Core.Merkle.MerkleTree.FromTokens([5, 6, 7, variant]).Root,
            OutputTokenCount = 4,
        };
        return SignedMessage.Create(node, receipt);
    }

    /// <summary>The node's record of serving <paramref name="request"/> with <paramref name="receipt"/>.</summary>
    public static SignedMessage<TransactionRecord> NodeRecord(Ed25519KeyPair node, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, int minutesAfter = 0) =>
        Record(node, request, receipt, TransactionRole.Node, minutesAfter);

    /// <summary>The client's record (pending when <paramref name="receipt"/> is null).</summary>
    public static SignedMessage<TransactionRecord> ClientRecord(Ed25519KeyPair client, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt>? receipt, int minutesAfter = 0) =>
        Record(client, request, receipt, TransactionRole.Client, minutesAfter);

    /// <summary>A record with any signer and role (for refusal tests).</summary>
    public static SignedMessage<TransactionRecord> Record(Ed25519KeyPair signer, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt>? receipt, TransactionRole role, int minutesAfter = 0)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SignedMessage.Create(signer, new TransactionRecord
        {
            RequestId = new RequestId(request.Hash),
            RequestEnvelope = request.Envelope.Encoded,
            ReceiptEnvelope = receipt?.Envelope.Encoded ?? ReadOnlyMemory<byte>.Empty,
            Role = role,
            RecordedAt = SampleMessages.Now.AddMinutes(minutesAfter),
        });
    }
}
