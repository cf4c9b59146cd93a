using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Ledger;
using PoIP.Core.Protocol;
using PoIP.Network.Kademlia;

namespace PoIP.Network.Transactions;

/// <summary>
/// <see cref="ITransactionLedger"/> on the Kademlia DHT: a request's records live together as one
/// <see cref="TransactionRecordSet"/> under <c>/poip/tx/&lt;request id&gt;</c>. A put first collects the sets the
/// closest peers hold, classifies the record against their union (duplicate, new, or a node's second
/// receipt: <see cref="LedgerPutStatus.Conflict"/> with the equivocation evidence), then stores the union with
/// the record on the k closest peers and reports how many confirmed it (below the quorum:
/// <see cref="LedgerPutStatus.Unconfirmed"/>). A get merges every valid set the closest peers return. The
/// DHT's namespace (<see cref="PoIPRecordNamespace"/>) merges sets on every peer, so a put never erases
/// evidence another peer holds. Register that namespace on the DHT.
/// </summary>
public sealed class DhtTransactionLedger : ITransactionLedger
{
    private readonly IKademliaDht _dht;
    private readonly DhtTransactionLedgerOptions _options;

    /// <summary>Creates the ledger over a started DHT.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative quorum.</exception>
    public DhtTransactionLedger(IKademliaDht dht, DhtTransactionLedgerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dht);
        _dht = dht;
        _options = options ?? new DhtTransactionLedgerOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(_options.Quorum, nameof(options));
    }

    /// <inheritdoc />
    public async Task<LedgerPutResult> PutAsync(SignedMessage<TransactionRecord> record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (TransactionRecordSet.CheckParty(record) is { } problem)
        {
            return new LedgerPutResult(LedgerPutStatus.Rejected, Detail: problem);
        }

        var single = TransactionRecordSet.Create([record]);
        if (single.CheckTimes(_options.TimeProvider.GetUtcNow(), _options.Timing) is { } timeProblem)
        {
            return new LedgerPutResult(LedgerPutStatus.Rejected, Detail: timeProblem);
        }

        var existing = await GetSetAsync(single.RequestId, cancellationToken).ConfigureAwait(false);
        var classified = existing?.Classify(record) ?? LedgerPutResult.Stored;
        var merged = existing is null ? single : existing.Merge(single);
        if (classified.Status != LedgerPutStatus.Duplicate && !merged.Contains(record))
        {
            return new LedgerPutResult(LedgerPutStatus.Rejected, Detail: $"the request already holds {TransactionRecordSet.MaxRecords} records of higher rank.");
        }

        var put = await _dht.PutValueAsync(PoIPRecordKeys.Transaction(single.RequestId), merged.Encode(), cancellationToken).ConfigureAwait(false);
        var result = classified with { Confirmed = put.Confirmed, Asked = put.Asked };
        return result.Status != LedgerPutStatus.Conflict && put.Confirmed < _options.Quorum
            ? result with { Status = LedgerPutStatus.Unconfirmed, Detail = $"{put.Confirmed} of {put.Asked} peers confirmed; the quorum is {_options.Quorum}." }
            : result;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SignedMessage<TransactionRecord>>> GetAsync(RequestId requestId, CancellationToken cancellationToken = default) =>
        (await GetSetAsync(requestId, cancellationToken).ConfigureAwait(false))?.Records ?? [];

    /// <summary>The union of every valid set the closest peers hold for <paramref name="requestId"/>, or null when none.</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task<TransactionRecordSet?> GetSetAsync(RequestId requestId, CancellationToken cancellationToken = default)
    {
        var values = await _dht.GetValuesAsync(PoIPRecordKeys.Transaction(requestId), cancellationToken).ConfigureAwait(false);
        var now = _options.TimeProvider.GetUtcNow();
        TransactionRecordSet? merged = null;
        foreach (var value in values)
        {
            TransactionRecordSet set;
            try
            {
                set = TransactionRecordSet.Decode(value.Value.Span);
            }
            catch (PoIPException)
            {
                continue; // the DHT validated it under its namespace; a peer with other rules may still differ
            }

            if (set.RequestId == requestId && set.CheckTimes(now, _options.Timing) is null)
            {
                merged = merged is null ? set : merged.Merge(set);
            }
        }

        return merged;
    }
}
