using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// A node's claims on the escrows of the receipts it signed: once a receipt's dispute window has
/// passed, the node asks the ledger to settle it at the receipt's price (idempotent by an operation
/// id derived from the request, so a settlement by anyone else is not repeated). Claims are kept in
/// memory, in receipt order (the window is the same for all, so the first is always due first);
/// at most <see cref="Capacity"/> are pending, beyond that the newest are not claimed automatically.
/// </summary>
internal sealed class PaymentClaims : IAsyncDisposable
{
    public const int Capacity = 100_000;

    private readonly Channel<(RequestId Request, TokenAmount Price, DateTimeOffset Due)> _pending =
        Channel.CreateBounded<(RequestId, TokenAmount, DateTimeOffset)>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly IStakeManager _stakes;
    private readonly TimeProvider _time;
    private readonly TimeSpan _delay;
    private readonly PoIPRuntime _runtime;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public PaymentClaims(IStakeManager stakes, TimeProvider time, TimeSpan disputeWindow, PoIPRuntime runtime, ILogger logger)
    {
        _stakes = stakes;
        _time = time;
        _delay = disputeWindow + TimeSpan.FromSeconds(1);
        _runtime = runtime;
        _logger = logger;
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    public void Add(RequestId request, TokenAmount price) => _pending.Writer.TryWrite((request, price, _time.GetUtcNow() + _delay));

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
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

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var (request, price, due) in _pending.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var wait = due - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }

            var result = await _stakes.SettleEscrowAsync(OperationId.Derive("escrow-settle", request.Digest.ToArray()), request, price, cancellationToken).ConfigureAwait(false);
            Log.Claimed(_logger, request.ToString(), result.Status.ToString());
            _runtime.OnClaimed(result.IsApplied);
        }
    }
}
