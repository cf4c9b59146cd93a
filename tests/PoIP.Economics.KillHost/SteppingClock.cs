namespace PoIP.Economics.KillHost;

/// <summary>A clock that moves one minute forward on every reading, so dispute windows and unbonding periods pass during the run.</summary>
internal sealed class SteppingClock : TimeProvider
{
    private long _ticks = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Add(ref _ticks, TimeSpan.TicksPerMinute), TimeSpan.Zero);
}
