using System.Threading.Tasks.Sources;

namespace PoIP.Network.Internal;

/// <summary>
/// A reusable wake-up for one waiter at a time (no allocation per wait, unlike a
/// TaskCompletionSource or a channel's WaitToReadAsync). The owner checks its condition and calls
/// <see cref="Arm"/> under its own lock; whoever changes the condition does so under that lock
/// and calls <see cref="Set"/> after it (a Set with nobody armed does nothing, and a spurious
/// wake-up is allowed: the waiter re-checks its condition). Continuations run on the thread pool,
/// never inline in the thread that calls <see cref="Set"/> (the Yamux read loop must not run
/// application code). The producer may instead <see cref="TryClaim"/> the armed waiter, fill the
/// waiter's buffer and then <see cref="CompleteClaim"/>: while claimed, neither <see cref="Set"/> nor a
/// cancellation completes the wait (a cancellation that loses that race is ignored and the wait
/// completes normally), so the buffer is never written after the waiter has resumed.
/// </summary>
internal sealed class AsyncSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;
    private const int Idle = 0;
    private const int Armed = 1;
    private const int Claimed = 2;
    private int _armed;

    /// <summary>True while a waiter is armed and neither woken nor claimed.</summary>
    public bool IsArmed => Volatile.Read(ref _armed) == Armed;

    /// <summary>Arms the signal; call under the owner's lock after seeing the condition false.</summary>
    /// <exception cref="InvalidOperationException">Another waiter is already armed.</exception>
    public void Arm()
    {
        if (Interlocked.CompareExchange(ref _armed, Armed, Idle) != Idle)
        {
            throw new InvalidOperationException("Only one operation of this kind may wait at a time on a stream.");
        }

        _core.Reset();
    }

    /// <summary>The wait (call once after <see cref="Arm"/>, outside the owner's lock); cancellation completes it with <see cref="OperationCanceledException"/>.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _token = cancellationToken;
            _registration = cancellationToken.UnsafeRegister(static s => ((AsyncSignal)s!).Cancel(), this);
        }

        return new ValueTask(this, _core.Version);
    }

    /// <summary>Wakes the armed waiter, if any.</summary>
    public void Set()
    {
        if (Interlocked.CompareExchange(ref _armed, Idle, Armed) == Armed)
        {
            _core.SetResult(true);
        }
    }

    /// <summary>Takes the armed waiter (false if none is armed); the caller must then call <see cref="CompleteClaim"/>.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _armed, Claimed, Armed) == Armed;

    /// <summary>Wakes the waiter taken by <see cref="TryClaim"/>, if any.</summary>
    public void CompleteClaim()
    {
        if (Interlocked.CompareExchange(ref _armed, Idle, Claimed) == Claimed)
        {
            _core.SetResult(true);
        }
    }

    private void Cancel()
    {
        if (Interlocked.CompareExchange(ref _armed, Idle, Armed) == Armed)
        {
            _core.SetException(new OperationCanceledException(_token));
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        _registration.Dispose();
        _registration = default;
        _token = default;
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
