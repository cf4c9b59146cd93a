namespace PoIP.Testing.LocalNetwork;

/// <summary>The system clock plus an offset that only grows: lets a local network fast-forward its ledger past dispute windows.</summary>
internal sealed class AdjustableClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
