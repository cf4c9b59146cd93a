namespace PoIP.Gateway;

/// <summary>
/// Bounds the gateway's work: at most <see cref="PoIPGatewayOptions.MaxConcurrentRequests"/> requests
/// generate at once and at most <see cref="PoIPGatewayOptions.MaxQueuedRequests"/> wait; a request
/// past the queue is refused at once (429), one that waits longer than the queue timeout gets 503.
/// </summary>
internal sealed class AdmissionGate(PoIPGatewayOptions options, GatewayMetrics metrics, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
    private int _waiting;

    public enum Result
    {
        Entered,
        QueueFull,
        TimedOut,
    }

    public async Task<Result> EnterAsync(CancellationToken cancellationToken)
    {
        if (_slots.Wait(0, CancellationToken.None))
        {
            return Result.Entered;
        }

        if (Interlocked.Increment(ref _waiting) > options.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref _waiting);
            return Result.QueueFull;
        }

        metrics.Queued(1);
        try
        {
            using var timeout = new CancellationTokenSource(options.QueueTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
                return Result.Entered;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return Result.TimedOut;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            metrics.Queued(-1);
        }
    }

    public void Exit() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
