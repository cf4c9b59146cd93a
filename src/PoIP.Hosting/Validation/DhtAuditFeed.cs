using System.Collections.Concurrent;
using PoIP.Core.Economics;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Reputation;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;

namespace PoIP.Hosting.Validation;

/// <summary>
/// A validator's view of the transaction layer: every transaction record set that reaches it in the DHT
/// (<see cref="KademliaOptions.RecordStored"/>) is read, not only what clients forward. A node that signed two
/// different receipts for one request is slashed at once with the equivocation evidence (signed by this
/// validator; the ledger re-checks it and refuses a second use). Every node receipt seen is put through the
/// same verifiable audit draw as a forwarded one (<see cref="AuditSelection"/>), so a node and a client that
/// collude by never forwarding are still drawn. The DHT carries no prompt or tokens: a validator host fetches each
/// selected receipt's transcript from the node (else the client) on <c>/poip/transcript/1.0.0</c>, checks it against
/// the signed request and receipt, and audits it through the ordinary path (<see cref="TranscriptAudited"/>); a
/// receipt waits in <see cref="Selected"/> until then.
/// </summary>
public sealed class DhtAuditFeed
{
    private const int MaxRemembered = 65_536;

    private readonly ValidatorServiceOptions _options;
    private readonly ConcurrentDictionary<Sha256Digest, byte> _seen = new();
    private readonly ConcurrentQueue<Sha256Digest> _seenOrder = new();
    private readonly ConcurrentDictionary<ReceiptId, AuditSelectionTicket> _selected = new();

    /// <summary>Creates the feed with the validator's key, ledger and audit probability.</summary>
    public DhtAuditFeed(ValidatorServiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Reputation = new ReputationBook(timeProvider: options.TimeProvider);
    }

    /// <summary>Ends a selected receipt's wait for its transcript.</summary>
    internal void CompleteTranscript(DhtTranscriptAudit result)
    {
        _selected.TryRemove(result.Receipt, out _);
        TranscriptAudited?.Invoke(this, result);
    }

    /// <summary>Raised for each equivocation slashed and each receipt drawn.</summary>
    public event EventHandler<DhtRecordAudit>? Audited;

    /// <summary>Raised when a selected receipt's transcript was fetched and audited, or withheld past the window.</summary>
    public event EventHandler<DhtTranscriptAudit>? TranscriptAudited;

    /// <summary>What this validator observed of nodes: a transcript withheld past the window counts as a timeout.</summary>
    public ReputationBook Reputation { get; }

    /// <summary>Receipts the draw selected, waiting for their transcript (bounded).</summary>
    public IReadOnlyDictionary<ReceiptId, AuditSelectionTicket> Selected => _selected;

    /// <summary>The <see cref="KademliaOptions.RecordStored"/> hook: reads a stored value if it is a transaction record set.</summary>
    public async ValueTask OnRecordStoredAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        if (!PoIPRecordKeys.TryParseTransaction(key.Span, out var requestId))
        {
            return;
        }

        TransactionRecordSet set;
        try
        {
            set = TransactionRecordSet.Decode(value.Span);
        }
        catch (PoIPException)
        {
            return; // the DHT validated it under the same rules; nothing to act on
        }

        if (set.RequestId != requestId)
        {
            return;
        }

        foreach (var evidence in set.FindEquivocations())
        {
            byte[] id = [.. requestId.Digest.ToArray(), .. evidence.AccusedId.Bytes];
            if (!Remember(Sha256Digest.Compute(id)))
            {
                continue;
            }

            var signed = SignedMessage.Create(_options.Key, evidence);
            var slash = await _options.Stakes.SlashAsync(OperationId.Derive("slash-equivocation", id), signed, _options.Key.PeerId, cancellationToken).ConfigureAwait(false);
            if (!slash.IsApplied && slash.Status is not (EconomicStatus.EvidenceAlreadyUsed or EconomicStatus.InvalidEvidence))
            {
                _seen.TryRemove(Sha256Digest.Compute(id), out _); // e.g. the ledger was busy: the next copy of this set retries
            }

            Audited?.Invoke(this, new DhtRecordAudit(requestId, evidence.AccusedId, default, null, true, slash));
        }

        foreach (var record in set.Records.Where(r => r.Message.Role == TransactionRole.Node))
        {
            var receiptId = new ReceiptId(Sha256Digest.Compute(record.Message.ReceiptEnvelope.Span));
            if (!Remember(receiptId.Digest))
            {
                continue;
            }

            var ticket = AuditSelection.Draw(_options.Key, receiptId, _options.AuditProbability);
            if (ticket.Selected && _selected.Count < MaxRemembered)
            {
                _selected.TryAdd(receiptId, ticket);
            }

            Audited?.Invoke(this, new DhtRecordAudit(requestId, record.Signer, receiptId, ticket, false, null));
        }
    }

    /// <summary>True the first time; forgets the oldest beyond the bound.</summary>
    private bool Remember(Sha256Digest id)
    {
        if (!_seen.TryAdd(id, 0))
        {
            return false;
        }

        _seenOrder.Enqueue(id);
        while (_seen.Count > MaxRemembered && _seenOrder.TryDequeue(out var old))
        {
            _seen.TryRemove(old, out _);
        }

        return true;
    }
}
