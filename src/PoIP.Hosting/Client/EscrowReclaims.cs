using System.Collections.Concurrent;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;

namespace PoIP.Hosting.Client;

/// <summary>
/// The client's money left in escrow by requests sent to several nodes (a hedge, a retry after a failure). The escrow
/// of an attempt that delivered no answer is refunded as soon as the ledger allows: at once when another attempt of the
/// same request was paid (its escrow group), else once it is abandoned (twice the dispute window). The escrow of the
/// delivered answer is its node's to claim; it is refunded only when another attempt's node was paid for the request
/// first (the ledger pays one escrow of a group), and forgotten once no other attempt can be paid. An escrow whose
/// opening got no answer (a chain that did not confirm in time) may still open: the ledger is asked about it for
/// <see cref="UncertainPasses"/> passes before it is forgotten as never opened. Bounded: beyond <see cref="Capacity"/>
/// escrows waiting, new ones are not tracked (they stay refundable by anyone).
/// </summary>
internal sealed class EscrowReclaims(IStakeManager stakes)
{
    /// <summary>The most escrows waiting to be reclaimed.</summary>
    public const int Capacity = 100_000;

    /// <summary>How many passes an escrow whose opening got no answer is looked for before it counts as never opened.</summary>
    public const int UncertainPasses = 30;

    // Value: null for an undelivered attempt's escrow; for a delivered answer's, the other attempts' escrows.
    private readonly ConcurrentDictionary<RequestId, RequestId[]?> _waiting = new();
    private readonly ConcurrentDictionary<RequestId, int> _uncertain = new();
    private int _sweeping;

    /// <summary>How many escrows wait to be reclaimed.</summary>
    public int Waiting => _waiting.Count + _uncertain.Count;

    /// <summary>Tracks the escrows of one request's attempts once every attempt ended.</summary>
    public void Track(IReadOnlyList<RequestId> escrows, RequestId? delivered)
    {
        foreach (var escrow in escrows)
        {
            if (_waiting.Count >= Capacity)
            {
                return;
            }

            if (escrow != delivered)
            {
                _waiting.TryAdd(escrow, null);
            }
            else if (escrows.Count > 1)
            {
                _waiting.TryAdd(escrow, [.. escrows.Where(e => e != escrow)]);
            }
        }
    }

    /// <summary>Tracks escrows whose opening got no answer from the ledger.</summary>
    public void TrackUncertain(IReadOnlyList<RequestId> escrows)
    {
        foreach (var escrow in escrows)
        {
            if (Waiting < Capacity)
            {
                _uncertain.TryAdd(escrow, UncertainPasses);
            }
        }
    }

    /// <summary>
    /// One pass over the tracked escrows: refunds those the ledger releases, forgets those no longer open (settled, or
    /// refunded by someone else), keeps the rest for a later pass. Returns how many were refunded (0 at once while
    /// another pass runs: passes do not overlap).
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return 0;
        }

        try
        {
            int refunded = 0;
            foreach (var (escrow, siblings) in _waiting)
            {
                bool? outcome = siblings is null
                    ? await TryRefundAsync(escrow, cancellationToken).ConfigureAwait(false)
                    : await TryReleaseDeliveredAsync(escrow, siblings, cancellationToken).ConfigureAwait(false);
                if (outcome == true)
                {
                    refunded++;
                }

                if (outcome is not null)
                {
                    _waiting.TryRemove(escrow, out _);
                }
            }

            foreach (var (escrow, passesLeft) in _uncertain)
            {
                if (await stakes.GetEscrowAsync(escrow, cancellationToken).ConfigureAwait(false) is null)
                {
                    if (passesLeft <= 1)
                    {
                        _uncertain.TryRemove(escrow, out _); // never opened
                    }
                    else
                    {
                        _uncertain[escrow] = passesLeft - 1;
                    }

                    continue;
                }

                _uncertain.TryRemove(escrow, out _);
                bool? outcome = await TryRefundAsync(escrow, cancellationToken).ConfigureAwait(false); // it opened after all: an undelivered attempt's
                if (outcome == true)
                {
                    refunded++;
                }
                else if (outcome is null)
                {
                    _waiting.TryAdd(escrow, null);
                }
            }

            return refunded;
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>True when refunded, false when no longer open (nothing to do), null when the ledger does not release it yet.</summary>
    private async Task<bool?> TryRefundAsync(RequestId escrow, CancellationToken cancellationToken)
    {
        var result = await stakes.RefundEscrowAsync(OperationId.Derive("escrow-refund-reclaim", escrow.Digest.ToArray()), escrow, cancellationToken).ConfigureAwait(false);
        return result.IsApplied ? true
            : result.Status is EconomicStatus.UnknownEscrow or EconomicStatus.DuplicateOperation ? false
            : null;
    }

    /// <summary>The delivered answer's escrow: refunded only once another attempt of its group was paid.</summary>
    private async Task<bool?> TryReleaseDeliveredAsync(RequestId escrow, RequestId[] siblings, CancellationToken cancellationToken)
    {
        if (await stakes.GetEscrowAsync(escrow, cancellationToken).ConfigureAwait(false) is not { State: EscrowState.Open })
        {
            return false; // its node was paid (or it was refunded)
        }

        bool anyOpen = false;
        foreach (var sibling in siblings)
        {
            var state = (await stakes.GetEscrowAsync(sibling, cancellationToken).ConfigureAwait(false))?.State;
            if (state == EscrowState.Settled)
            {
                return await TryRefundAsync(escrow, cancellationToken).ConfigureAwait(false);
            }

            anyOpen |= state == EscrowState.Open;
        }

        return anyOpen ? null : false; // no other attempt can be paid any more: the delivered answer's node claims its own
    }
}
