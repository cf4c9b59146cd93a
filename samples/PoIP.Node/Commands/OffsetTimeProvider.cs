namespace PoIP.Node.Commands;

/// <summary>
/// The system clock shifted by a fixed offset (<c>--clock-offset</c>): wall-clock reads (<see cref="GetUtcNow"/>, so
/// request expiries, receipt and record dates) run ahead or behind; timestamps and timers stay the system's, so
/// durations and timeouts are unchanged. Network namespaces share the kernel's realtime clock, so this is how the host
/// lab gives one host a skewed clock.
/// </summary>
internal sealed class OffsetTimeProvider(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
