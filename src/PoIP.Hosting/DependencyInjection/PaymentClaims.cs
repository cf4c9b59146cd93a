using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// A node's claims on the escrows of the receipts it signed: once a receipt's dispute window has
/// passed, the node asks the ledger to settle it at the receipt's price (idempotent by an operation
/// id derived from the request, so a settlement by anyone else is not repeated). Each claim's timer
/// is armed on the injected clock when the receipt is added (before the request is reported
/// handled), so a clock that jumps forward right after can never leave a claim waiting on a timer
/// armed too late. Claims are kept in memory; at most <see cref="Capacity"/> are pending, beyond
/// that the newest are not claimed automatically.
/// </summary>
internal sealed class PaymentClaims : IAsyncDisposable
{
    public const int Capacity = 100_000;

    private readonly Channel<(RequestId Request, TokenAmount Price)> _due =
        Channel.CreateUnbounded<(RequestId, TokenAmount)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly Dictionary<RequestId, ITimer> _timers = [];
    private readonly Lock _lock = new();
    private readonly IStakeManager _stakes;
    private readonly TimeProvider _time;
    private readonly TimeSpan _delay;
    private readonly PoIPRuntime _runtime;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private bool _disposed;

    public PaymentClaims(IStakeManager stakes, TimeProvider time, TimeSpan disputeWindow, PoIPRuntime runtime, ILogger logger)
    {
        _stakes = stakes;
        _time = time;
        _delay = disputeWindow + TimeSpan.FromSeconds(1);
        _runtime = runtime;
        _logger = logger;
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Arms the claim of <paramref name="request"/>'s escrow for when its dispute window has passed.</summary>
    public void Add(RequestId request, TokenAmount price)
    {
        lock (_lock)
        {
            if (_disposed || _timers.Count >= Capacity || _timers.ContainsKey(request))
            {
                return;
            }

            // Created under the lock: the callback takes the lock too, so it always finds its entry.
            _timers.Add(request, _time.CreateTimer(Due, (request, price), _delay, Timeout.InfiniteTimeSpan));
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var timer in _timers.Values)
            {
                timer.Dispose();
            }

            _timers.Clear();
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

    private void Due(object? state)
    {
        var (request, price) = ((RequestId, TokenAmount))state!;
        lock (_lock)
        {
            if (!_timers.Remove(request, out var timer))
            {
                return; // disposed meanwhile
            }

            timer.Dispose();
        }

        _due.Writer.TryWrite((request, price));
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var (request, price) in _due.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var result = await _stakes.SettleEscrowAsync(OperationId.Derive("escrow-settle", request.Digest.ToArray()), request, price, cancellationToken).ConfigureAwait(false);
            Log.Claimed(_logger, request.ToString(), result.Status.ToString());
            _runtime.OnClaimed(result.IsApplied);
        }
    }
}
