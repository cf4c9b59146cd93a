namespace PoIP.Hosting.Client;

/// <summary>
/// How long a request waits for its first token before hedging: <see cref="PoIPClientOptions.HedgeAfter"/>
/// when set, else a high quantile (<see cref="PoIPClientOptions.HedgeQuantile"/>) of the times to first token
/// this client measured lately (its last <see cref="Window"/> answers, whichever node gave them), floored at
/// <see cref="PoIPClientOptions.MinHedgeDelay"/> and capped at <see cref="PoIPClientOptions.MaxHedgeDelay"/>;
/// the cap until <see cref="MinimumSamples"/> were measured. Only real first tokens count: a lost hedge's
/// silence is a lower bound, not a sample (counting it would pull the quantile up to the delay itself).
/// </summary>
internal sealed class HedgeDelayPolicy
{
    /// <summary>How many recent times to first token the quantile is taken over.</summary>
    public const int Window = 128;

    /// <summary>Samples needed before the quantile is trusted (the cap applies until then).</summary>
    public const int MinimumSamples = 8;

    private readonly bool _hedging;
    private readonly TimeSpan? _fixed;
    private readonly double _quantile;
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private readonly long[] _ticks = new long[Window];
    private readonly Lock _lock = new();
    private int _count;
    private int _next;

    public HedgeDelayPolicy(bool hedging, TimeSpan? fixedDelay, double quantile, TimeSpan min, TimeSpan max)
    {
        _hedging = hedging;
        _fixed = fixedDelay;
        _quantile = quantile;
        _min = min;
        _max = max;
    }

    /// <summary>The policy of a client's options.</summary>
    public static HedgeDelayPolicy From(PoIPClientOptions options) =>
        new(options.Hedging, options.HedgeAfter, options.HedgeQuantile, options.MinHedgeDelay, options.MaxHedgeDelay);

    /// <summary>Records a measured time to first token.</summary>
    public void Observe(TimeSpan timeToFirstToken)
    {
        lock (_lock)
        {
            _ticks[_next] = Math.Max(0, timeToFirstToken.Ticks);
            _next = (_next + 1) % Window;
            _count = Math.Min(_count + 1, Window);
        }
    }

    /// <summary>The delay a request started now hedges after; null when hedging is off.</summary>
    public TimeSpan? Current
    {
        get
        {
            if (!_hedging)
            {
                return null;
            }

            if (_fixed is { } fixedDelay)
            {
                return fixedDelay;
            }

            long[] sorted;
            lock (_lock)
            {
                if (_count < MinimumSamples)
                {
                    return _max;
                }

                sorted = _ticks[.._count];
            }

            Array.Sort(sorted);
            int rank = (int)Math.Ceiling(_quantile * sorted.Length) - 1; // nearest rank
            var quantile = TimeSpan.FromTicks(sorted[Math.Clamp(rank, 0, sorted.Length - 1)]);
            return quantile < _min ? _min : quantile > _max ? _max : quantile;
        }
    }
}
