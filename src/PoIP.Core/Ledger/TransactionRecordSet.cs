using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;

namespace PoIP.Core.Ledger;

/// <summary>
/// Every signed transaction record of one request, as stored in the DHT under <c>/poip/tx/&lt;request id&gt;</c>:
/// a bounded set in canonical order, so that one GET finds every record and a put can only add.
/// <para>
/// Rules. Each record is signed by a party: a <see cref="TransactionRole.Client"/> record by the request's
/// client (receipt optional), a <see cref="TransactionRole.Node"/> record by the node whose signed receipt it
/// carries; validator records are not stored here. Per signer and role at most two records are kept: the one
/// with the smallest envelope hash and, when there is one, the smallest whose receipt differs from it, so a node
/// that signed two different receipts always keeps a conflicting pair (equivocation evidence) and re-signing
/// the same receipt adds nothing. At most <see cref="MaxRecords"/> records: the client's first, then conflicting
/// pairs (nodes the client names first), then the named nodes, then other nodes, each rank ordered by hash; a
/// signer's records are kept whole or not at all, and only while the set stays within <see cref="MaxEncodedLength"/>.
/// So merging is a deduplicated union, commutative and idempotent, and a conflict is never dropped for a
/// record of lower rank; with at most three equivocating nodes on one request, every conflict survives.
/// </para>
/// </summary>
public sealed class TransactionRecordSet
{
    /// <summary>Most records in one set.</summary>
    public const int MaxRecords = 8;

    /// <summary>Largest record envelope accepted in a set (a request of 8 KiB and a receipt of 256 KiB fit).</summary>
    public const int MaxRecordLength = 280 * 1024;

    /// <summary>
    /// Largest encoded set (1 MiB): a client record and a conflicting pair of the largest records fit. A DHT carrying
    /// these sets must accept values of this size (<c>KademliaOptions.MaxValueSize</c>).
    /// </summary>
    public const int MaxEncodedLength = 1 << 20;

    /// <summary>Bytes a record adds to the encoding besides its envelope (field tag and length), and the set's own header.</summary>
    private const int RecordOverhead = 4, SetOverhead = 8;

    private const string TypeName = nameof(TransactionRecordSet);

    private readonly IReadOnlyList<Entry> _entries;

    private TransactionRecordSet(SignedMessage<InferenceRequest> request, IReadOnlyList<Entry> entries)
    {
        Request = request;
        RequestId = new RequestId(request.Hash);
        _entries = entries;
        Records = [.. entries.Select(e => e.Record)];
    }

    /// <summary>The request all records are about.</summary>
    public RequestId RequestId { get; }

    /// <summary>The client's signed request (verified).</summary>
    public SignedMessage<InferenceRequest> Request { get; }

    /// <summary>The records, ascending by envelope hash.</summary>
    public IReadOnlyList<SignedMessage<TransactionRecord>> Records { get; }

    /// <summary>Builds the canonical set of <paramref name="records"/> (all for one request), applying the bound.</summary>
    /// <exception cref="ArgumentException">No records, records for different requests, or a record whose signer is not a party (see the class remarks).</exception>
    public static TransactionRecordSet Create(IEnumerable<SignedMessage<TransactionRecord>> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var list = records.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("A transaction record set needs at least one record.", nameof(records));
        }

        SignedMessage<InferenceRequest> request;
        try
        {
            request = SignedMessage.Open<InferenceRequest>(list[0].Message.RequestEnvelope);
        }
        catch (PoIPException ex)
        {
            throw new ArgumentException("The request envelope does not verify: " + ex.Message, nameof(records), ex);
        }

        var entries = new List<Entry>(list.Count);
        foreach (var record in list)
        {
            if (record.Message.RequestId.Digest != request.Hash)
            {
                throw new ArgumentException("The records concern different requests.", nameof(records));
            }

            entries.Add(Entry.Read(record, request, out string? problem) ?? throw new ArgumentException(problem, nameof(records)));
        }

        return new TransactionRecordSet(request, Canonicalize(entries));
    }

    /// <summary>
    /// Decodes and checks a set: size limits, every envelope's signature, one request, every signer a party, and
    /// canonical form (what <see cref="Create"/> would build from the same records).
    /// </summary>
    /// <exception cref="PoIPDecodeException">Oversize, malformed, or breaking a rule.</exception>
    /// <exception cref="SignatureException">An envelope does not verify.</exception>
    public static TransactionRecordSet Decode(ReadOnlySpan<byte> bytes)
    {
        var proto = WireFields.Parse(TransactionRecordSetProto.Parser, bytes, MaxEncodedLength, TypeName);
        WireFields.CheckVersion(proto.Version, TypeName);
        if (proto.Records.Count is 0 or > MaxRecords)
        {
            throw WireFields.Invalid(TypeName, $"{proto.Records.Count} records; 1 to {MaxRecords} allowed.");
        }

        SignedMessage<InferenceRequest>? request = null;
        var entries = new List<Entry>(proto.Records.Count);
        foreach (var encoded in proto.Records)
        {
            WireFields.CheckLength(encoded.Length, MaxRecordLength, TypeName, "record");
            var record = SignedMessage.Open<TransactionRecord>(encoded.Memory);
            request ??= SignedMessage.Open<InferenceRequest>(record.Message.RequestEnvelope);
            if (record.Message.RequestId.Digest != request.Hash)
            {
                throw WireFields.Invalid(TypeName, "the records concern different requests.");
            }

            entries.Add(Entry.Read(record, request, out string? problem) ?? throw WireFields.Invalid(TypeName, problem!));
        }

        var canonical = Canonicalize(entries);
        if (canonical.Count != entries.Count || !canonical.Select(e => e.Record.Hash).SequenceEqual(entries.Select(e => e.Record.Hash)))
        {
            throw WireFields.Invalid(TypeName, "the set is not in canonical form (duplicates, unsorted, or over a bound).");
        }

        return new TransactionRecordSet(request!, canonical);
    }

    /// <summary>Checks whether <paramref name="record"/> may join a set: a party signed it (see the class remarks).</summary>
    /// <returns>Null when it may, else why not.</returns>
    public static string? CheckParty(SignedMessage<TransactionRecord> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            var request = SignedMessage.Open<InferenceRequest>(record.Message.RequestEnvelope);
            _ = Entry.Read(record, request, out string? problem);
            return problem;
        }
        catch (PoIPException ex)
        {
            return "the request envelope does not verify: " + ex.Message;
        }
    }

    /// <summary>The deterministic protobuf encoding (the DHT value).</summary>
    public byte[] Encode()
    {
        var proto = new TransactionRecordSetProto { Version = WireFields.CurrentVersion };
        foreach (var entry in _entries)
        {
            proto.Records.Add(ByteString.CopyFrom(entry.Record.Envelope.Encoded.Span));
        }

        return proto.ToByteArray();
    }

    /// <summary>The canonical set of both sets' records (deduplicated union under the bound).</summary>
    /// <exception cref="ArgumentException">The sets concern different requests.</exception>
    public TransactionRecordSet Merge(TransactionRecordSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.RequestId != RequestId)
        {
            throw new ArgumentException("The sets concern different requests.", nameof(other));
        }

        return new TransactionRecordSet(Request, Canonicalize([.. _entries, .. other._entries]));
    }

    /// <summary>This set with <paramref name="record"/> added (it may be left out by the bound: check <see cref="Contains"/>).</summary>
    /// <exception cref="ArgumentException">The record concerns another request or its signer is not a party.</exception>
    public TransactionRecordSet Add(SignedMessage<TransactionRecord> record) => Merge(Create([record]));

    /// <summary>Whether this exact record envelope is in the set.</summary>
    public bool Contains(SignedMessage<TransactionRecord> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return _entries.Any(e => e.Record.Hash == record.Hash);
    }

    /// <summary>
    /// What putting <paramref name="record"/> into a ledger holding this set means: <see cref="LedgerPutStatus.Duplicate"/>
    /// when the same signer already said the same (same role and receipt), <see cref="LedgerPutStatus.Conflict"/>
    /// with equivocation evidence when that node signed a different receipt, else <see cref="LedgerPutStatus.Stored"/>;
    /// <see cref="LedgerPutStatus.Rejected"/> when it is for another request or not signed by a party.
    /// </summary>
    public LedgerPutResult Classify(SignedMessage<TransactionRecord> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Message.RequestId != RequestId)
        {
            return new LedgerPutResult(LedgerPutStatus.Rejected, Detail: "the record concerns another request.");
        }

        var entry = Entry.Read(record, Request, out string? problem);
        if (entry is null)
        {
            return new LedgerPutResult(LedgerPutStatus.Rejected, Detail: problem!);
        }

        var same = _entries.Where(e => e.Record.Signer == entry.Record.Signer && e.Role == entry.Role).ToList();
        if (same.Any(e => e.Record.Hash == entry.Record.Hash || e.ReceiptHash == entry.ReceiptHash))
        {
            return LedgerPutResult.Duplicate;
        }

        var other = same.FirstOrDefault();
        return entry.Role == TransactionRole.Node && other is not null
            ? new LedgerPutResult(LedgerPutStatus.Conflict, Equivocation(other, entry), "the node already signed a different receipt for this request.")
            : LedgerPutResult.Stored;
    }

    /// <summary>Equivocation evidence for every node that signed two different receipts for this request (not yet signed by a challenger).</summary>
    public IReadOnlyList<Evidence> FindEquivocations() =>
        [.. _entries.Where(e => e.Role == TransactionRole.Node)
            .GroupBy(e => e.Record.Signer)
            .Where(g => g.Select(e => e.ReceiptHash).Distinct().Count() > 1)
            .Select(g => Equivocation(g.First(), g.First(e => e.ReceiptHash != g.First().ReceiptHash)))];

    /// <summary>Checks the set's times at <paramref name="now"/>.</summary>
    /// <returns>Null when valid, else why not (expired, or dated in the future).</returns>
    public string? CheckTimes(DateTimeOffset now, TransactionRecordTiming timing)
    {
        ArgumentNullException.ThrowIfNull(timing);
        var expires = Request.Message.ExpiresAt;
        if (expires > now + timing.MaxRequestHorizon)
        {
            return "the request expires too far in the future.";
        }

        if (now > expires + timing.Retention)
        {
            return "the records have expired.";
        }

        var limit = now + timing.MaxClockSkew;
        return _entries.Any(e => e.Record.Message.RecordedAt > limit || e.ReceiptIssuedAt > limit) ? "a record or receipt is dated in the future." : null;
    }

    private static Evidence Equivocation(Entry first, Entry second) => new()
    {
        Kind = EvidenceKind.Equivocation,
        AccusedId = first.Record.Signer,
        First = first.Record.Envelope.Encoded,
        Second = second.Record.Envelope.Encoded,
    };

    private static List<Entry> Canonicalize(IEnumerable<Entry> entries)
    {
        var distinct = entries.DistinctBy(e => e.Record.Hash).ToList();
        var groups = new List<(int Rank, Entry First, List<Entry> Kept)>();
        var named = new HashSet<PeerId>();
        foreach (var group in distinct.GroupBy(e => (e.Record.Signer, e.Role)))
        {
            var ordered = group.OrderBy(e => e.HashBytes, ByteComparer.Instance).ToList();
            var first = ordered[0];
            var second = ordered.FirstOrDefault(e => e.ReceiptHash != first.ReceiptHash);
            List<Entry> kept = second is null ? [first] : [first, second];
            if (first.Role == TransactionRole.Client)
            {
                foreach (var e in kept.Where(e => e.ReceiptNode is not null))
                {
                    named.Add(e.ReceiptNode!.Value);
                }
            }

            groups.Add((0, first, kept));
        }

        var result = new List<Entry>(MaxRecords);
        int bytes = SetOverhead;
        foreach (var (_, _, kept) in groups
            .Select(g => (Rank: RankOf(g.First, g.Kept.Count == 2, named), g.First, g.Kept))
            .OrderBy(g => g.Rank)
            .ThenBy(g => g.First.HashBytes, ByteComparer.Instance))
        {
            int size = kept.Sum(e => e.Record.Envelope.Encoded.Length + RecordOverhead);
            if (result.Count + kept.Count <= MaxRecords && bytes + size <= MaxEncodedLength)
            {
                result.AddRange(kept);
                bytes += size;
            }
        }

        result.Sort((a, b) => ByteComparer.Instance.Compare(a.HashBytes, b.HashBytes));
        return result;
    }

    private static int RankOf(Entry first, bool pair, HashSet<PeerId> named) =>
        first.Role == TransactionRole.Client ? 0
        : pair && named.Contains(first.Record.Signer) ? 1
        : pair ? 2
        : named.Contains(first.Record.Signer) ? 3
        : 4;

    /// <summary>One record with what the rules read from it.</summary>
    private sealed class Entry
    {
        private Entry(SignedMessage<TransactionRecord> record, Sha256Digest receiptHash, PeerId? receiptNode, DateTimeOffset receiptIssuedAt)
        {
            Record = record;
            HashBytes = record.Hash.ToArray();
            ReceiptHash = receiptHash;
            ReceiptNode = receiptNode;
            ReceiptIssuedAt = receiptIssuedAt;
        }

        public SignedMessage<TransactionRecord> Record { get; }

        public byte[] HashBytes { get; }

        public TransactionRole Role => Record.Message.Role;

        /// <summary>SHA-256 of the receipt envelope (zero when none).</summary>
        public Sha256Digest ReceiptHash { get; }

        public PeerId? ReceiptNode { get; }

        public DateTimeOffset ReceiptIssuedAt { get; }

        public static Entry? Read(SignedMessage<TransactionRecord> record, SignedMessage<InferenceRequest> request, out string? problem)
        {
            problem = null;
            var message = record.Message;
            if (request.Signer != request.Message.ClientId)
            {
                problem = "the request is not signed by its client.";
                return null;
            }

            if (message.Role is not (TransactionRole.Client or TransactionRole.Node))
            {
                problem = "only client and node records are stored.";
                return null;
            }

            if (message.ReceiptEnvelope.IsEmpty)
            {
                problem = message.Role == TransactionRole.Client
                    ? (record.Signer == request.Message.ClientId ? null : "a client record must be signed by the request's client.")
                    : "a node record must carry the node's receipt.";
                return problem is null ? new Entry(record, default, null, DateTimeOffset.MinValue) : null;
            }

            SignedMessage<InferenceReceipt> receipt;
            try
            {
                receipt = SignedMessage.Open<InferenceReceipt>(message.ReceiptEnvelope);
            }
            catch (PoIPException ex)
            {
                problem = "the receipt does not verify: " + ex.Message;
                return null;
            }

            problem =
                receipt.Signer != receipt.Message.NodeId ? "the receipt is not signed by its node."
                : receipt.Message.RequestId != message.RequestId ? "the receipt answers another request."
                : receipt.Message.ModelId != request.Message.ModelId ? "the receipt names another model than the request."
                : message.Role switch
                {
                    TransactionRole.Client => record.Signer == request.Message.ClientId ? null : "a client record must be signed by the request's client.",
                    _ => record.Signer == receipt.Signer ? null : "a node record must be signed by the node whose receipt it carries.",
                };
            return problem is null ? new Entry(record, receipt.Hash, receipt.Signer, receipt.Message.IssuedAt) : null;
        }
    }

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static ByteComparer Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
