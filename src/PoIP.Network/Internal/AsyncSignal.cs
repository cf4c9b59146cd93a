using System.Threading.Tasks.Sources;

namespace PoIP.Network.Internal;

/// <summary>
/// A reusable wake-up for one waiter at a time (no allocation per wait, unlike a
/// TaskCompletionSource or a channel's WaitToReadAsync). The owner checks its condition and calls
/// <see cref="Arm"/> under its own lock; whoever changes the condition does so under that lock
/// and calls <see cref="Set"/> after it (a Set with nobody armed does nothing, and a spurious
/// wake-up is allowed: the waiter re-checks its condition). Continuations run on the thread pool,
/// never inline in the thread that calls <see cref="Set"/> (the Yamux read loop must not run
/// application code).
/// </summary>
internal sealed class AsyncSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;
    private int _armed;

    /// <summary>True while a waiter is armed and not yet woken.</summary>
    public bool IsArmed => Volatile.Read(ref _armed) != 0;

    /// <summary>Arms the signal; call under the owner's lock after seeing the condition false.</summary>
    /// <exception cref="InvalidOperationException">Another waiter is already armed.</exception>
    public void Arm()
    {
        if (Interlocked.CompareExchange(ref _armed, 1, 0) != 0)
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
        if (Interlocked.CompareExchange(ref _armed, 0, 1) == 1)
        {
            _core.SetResult(true);
        }
    }

    private void Cancel()
    {
        if (Interlocked.CompareExchange(ref _armed, 0, 1) == 1)
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
