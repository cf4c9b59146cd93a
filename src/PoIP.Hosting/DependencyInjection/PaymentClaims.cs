using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Protocol;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// A node's claims on the escrows of the receipts it signed: once a receipt's dispute window has
/// passed, the node asks the ledger to settle the escrow with its receipt and the client's request
/// (idempotent by an operation id derived from the request, so a settlement by anyone else is not
/// repeated). Claims are stored (<see cref="PaymentClaimStore"/>) before the request is reported
/// handled and removed once the ledger has answered for good, so a restart resumes them. Each claim
/// is retried on its own: a ledger fault (an exception) re-arms that claim with a backoff of up to
/// <see cref="MaxBackoff"/>, forever; a refusal that may pass later (the window still open on the
/// ledger's clock, an escrow not visible yet) is retried <see cref="MaxRefusals"/> times; any other
/// answer is final. Timers run on the injected clock and are armed when the claim is added, so a
/// clock that jumps forward right after never leaves a claim on a timer armed too late. At most
/// <see cref="Capacity"/> claims are pending; beyond that the newest are not claimed automatically. Up to
/// <see cref="Concurrency"/> due claims are asked at once.
/// </summary>
internal sealed class PaymentClaims : IAsyncDisposable
{
    public const int Capacity = 100_000;
    public const int MaxRefusals = 8;
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Claims asked at once: on a chain each waits for its block, so one at a time would settle at most one per block.</summary>
    public const int Concurrency = 16;

    private readonly Channel<Pending> _due = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<RequestId, Pending> _pending = [];
    private readonly Lock _lock = new();
    private readonly IStakeManager _stakes;
    private readonly TimeProvider _time;
    private readonly TimeSpan _delay;
    private readonly PaymentClaimStore _store;
    private readonly PoIPRuntime _runtime;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private bool _disposed;

    public PaymentClaims(IStakeManager stakes, TimeProvider time, TimeSpan disputeWindow, PaymentClaimStore store, PoIPRuntime runtime, ILogger logger)
    {
        _stakes = stakes;
        _time = time;
        _delay = disputeWindow + TimeSpan.FromSeconds(1);
        _store = store;
        _runtime = runtime;
        _logger = logger;
        var (stored, problems) = store.Load(Capacity);
        foreach (string problem in problems)
        {
            Log.ClaimUnreadable(_logger, problem);
        }

        lock (_lock)
        {
            foreach (var claim in stored)
            {
                if (!_pending.ContainsKey(claim.RequestId))
                {
                    Arm(new Pending(claim), claim.DueAt - _time.GetUtcNow());
                }
            }
        }

        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Raised after a claim was re-armed for a retry (tests wait on it before moving the clock).</summary>
    public event EventHandler<RequestId>? Rescheduled;

    /// <summary>Claims not answered for good yet.</summary>
    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Stores the claim of <paramref name="request"/>'s escrow and arms it for when its dispute window has passed.</summary>
    public void Add(SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt)
    {
        var claim = new PaymentClaim(request, receipt, _time.GetUtcNow() + _delay);
        lock (_lock)
        {
            if (_disposed || _pending.Count >= Capacity || _pending.ContainsKey(claim.RequestId))
            {
                return;
            }

            Save(claim);
            Arm(new Pending(claim), _delay);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var pending in _pending.Values)
            {
                pending.Timer?.Dispose();
            }

            _pending.Clear(); // stored claims stay on disk for the next start
        }

        _due.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }

        _stop.Dispose();
    }

    private void Save(PaymentClaim claim)
    {
        try
        {
            _store.Save(claim);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ClaimNotStored(_logger, claim.RequestId.ToString(), e.Message); // still claimed from memory
        }
    }

    /// <summary>Under the lock: the timer callback takes it too, so it always finds its entry.</summary>
    private void Arm(Pending pending, TimeSpan delay)
    {
        _pending[pending.Claim.RequestId] = pending;
        pending.Timer = _time.CreateTimer(Due, pending, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
    }

    private void Due(object? state)
    {
        var pending = (Pending)state!;
        lock (_lock)
        {
            if (_disposed || !_pending.TryGetValue(pending.Claim.RequestId, out var current) || current != pending)
            {
                return;
            }

            pending.Timer?.Dispose();
            pending.Timer = null;
        }

        _due.Writer.TryWrite(pending);
    }

    private Task RunAsync(CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(_due.Reader.ReadAllAsync(cancellationToken), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken }, ClaimAsync);

    /// <summary>Asks the ledger once for one due claim; finishes it, or re-arms it with a backoff.</summary>
    private async ValueTask ClaimAsync(Pending pending, CancellationToken cancellationToken)
    {
        var claim = pending.Claim;
        string request = claim.RequestId.ToString();
        try
        {
            var result = await _stakes.SettleEscrowAsync(OperationId.Derive("escrow-settle", claim.Request.Hash.ToArray()), claim.Request, claim.Receipt, cancellationToken).ConfigureAwait(false);
            bool final = !await MayPassLaterAsync(result, claim, cancellationToken).ConfigureAwait(false) || ++pending.Refusals > MaxRefusals;
            Log.Claimed(_logger, request, result.Status.ToString());
            if (final)
            {
                Finish(claim);
                _runtime.OnClaimed(result.IsApplied);
                return;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            // A ledger fault (database error, chain unreachable, timeout): this claim waits and
            // retries; the others go on.
            Log.ClaimFailed(_logger, request, e.Message);
        }

        pending.Attempts++;
        var backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(pending.Attempts, 20))));
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            Arm(pending, backoff);
        }

        Rescheduled?.Invoke(this, claim.RequestId);
    }

    /// <summary>A refusal worth retrying: the ledger still sees the escrow open (its clock is behind ours) or does not see it yet.</summary>
    private async Task<bool> MayPassLaterAsync(EconomicResult result, PaymentClaim claim, CancellationToken cancellationToken)
    {
        if (result.Status is not (EconomicStatus.NotAllowed or EconomicStatus.UnknownEscrow))
        {
            return false;
        }

        var escrow = await _stakes.GetEscrowAsync(claim.RequestId, cancellationToken).ConfigureAwait(false);
        return escrow is null || escrow.State == EscrowState.Open;
    }

    private void Finish(PaymentClaim claim)
    {
        lock (_lock)
        {
            _pending.Remove(claim.RequestId);
        }

        try
        {
            _store.Remove(claim.RequestId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ClaimNotStored(_logger, claim.RequestId.ToString(), e.Message); // a restart re-asks: idempotent
        }
    }

    private sealed class Pending(PaymentClaim claim)
    {
        public PaymentClaim Claim { get; } = claim;

        public ITimer? Timer { get; set; }

        public int Attempts { get; set; }

        public int Refusals { get; set; }
    }
}
