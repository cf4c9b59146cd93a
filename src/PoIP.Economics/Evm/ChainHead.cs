using System.Numerics;

namespace PoIP.Economics.Evm;

/// <summary>
/// The chain's latest block number, read at most once per poll interval however many callers ask:
/// every transaction this process is waiting on shares the same reads, so a hundred pending
/// transactions cost one <c>eth_blockNumber</c> per interval, and one receipt read each per new block.
/// </summary>
internal sealed class ChainHead(Func<Task<BigInteger>> read, TimeSpan interval, TimeProvider time)
{
    private readonly Lock _lock = new();
    private Task<BigInteger>? _last;
    private long _readAt;

    /// <summary>The head as read at most one interval ago (possibly lower than the chain's by then: callers only wait on it).</summary>
    public Task<BigInteger> CurrentAsync(CancellationToken cancellationToken)
    {
        Task<BigInteger> last;
        lock (_lock)
        {
            if (_last is null || (_last.IsCompleted && (!_last.IsCompletedSuccessfully || time.GetElapsedTime(_readAt) >= interval)))
            {
                _readAt = time.GetTimestamp();
                _last = read();
            }

            last = _last;
        }

        return last.WaitAsync(cancellationToken);
    }

    /// <summary>Waits until the head is above <paramref name="seen"/>, reading it once per interval; returns the new head.</summary>
    public async Task<BigInteger> AfterAsync(BigInteger seen, CancellationToken cancellationToken)
    {
        while (true)
        {
            var head = await CurrentAsync(cancellationToken).ConfigureAwait(false);
            if (head > seen)
            {
                return head;
            }

            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
