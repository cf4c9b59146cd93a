using PoIP.Core.Identity;

namespace PoIP.Economics.Reputation;

/// <summary>
/// Per-node reputation for routing: a Beta(success, failure) score with exponential time decay,
/// fed by completed requests, passed audits, proven fraud, failed known-answer challenges and timeouts,
/// plus a count of offences (frauds and failed challenges) that does not decay. Thread-safe, bounded
/// (<see cref="ReputationOptions.MaxNodes"/>), in memory: a host rebuilds it from what it observes.
/// </summary>
public sealed class ReputationBook
{
    private readonly ReputationOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<PeerId, Entry> _entries = [];
    private readonly Lock _lock = new();

    /// <summary>Creates a book.</summary>
    /// <param name="options">Scoring options (defaults when null).</param>
    /// <param name="timeProvider">The clock for decay (system clock when null).</param>
    /// <exception cref="ArgumentOutOfRangeException">Invalid options.</exception>
    public ReputationBook(ReputationOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new ReputationOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Nodes tracked.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Records what <paramref name="node"/> did, now.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unknown event.</exception>
    public void Record(PeerId node, ReputationEvent reputationEvent)
    {
        var (success, failure) = reputationEvent switch
        {
            ReputationEvent.RequestCompleted => (_options.CompletedWeight, 0d),
            ReputationEvent.AuditPassed => (_options.AuditPassedWeight, 0d),
            ReputationEvent.FraudProven or ReputationEvent.ChallengeFailed => (0d, _options.FraudWeight),
            ReputationEvent.Timeout => (0d, _options.TimeoutWeight),
            _ => throw new ArgumentOutOfRangeException(nameof(reputationEvent), reputationEvent, "Unknown reputation event."),
        };
        long now = _time.GetUtcNow().UtcTicks;
        lock (_lock)
        {
            if (!_entries.TryGetValue(node, out var entry))
            {
                if (_entries.Count >= _options.MaxNodes)
                {
                    _entries.Remove(_entries.MinBy(e => e.Value.UpdatedTicks).Key);
                }

                entry = new Entry(0, 0, now, 0);
            }

            double decay = Decay(entry.UpdatedTicks, now);
            int offences = entry.Offences + (reputationEvent is ReputationEvent.FraudProven or ReputationEvent.ChallengeFailed ? 1 : 0);
            _entries[node] = new Entry((entry.Successes * decay) + success, (entry.Failures * decay) + failure, Math.Max(now, entry.UpdatedTicks), offences);
        }
    }

    /// <summary>The node's score now (an unknown node has the prior's score, 0.5 by default).</summary>
    public ReputationScore Get(PeerId node)
    {
        long now = _time.GetUtcNow().UtcTicks;
        Entry entry;
        lock (_lock)
        {
            if (!_entries.TryGetValue(node, out entry))
            {
                entry = new Entry(0, 0, now, 0);
            }
        }

        double decay = Decay(entry.UpdatedTicks, now);
        double s = entry.Successes * decay, f = entry.Failures * decay;
        return new ReputationScore(s, f, (_options.PriorSuccess + s) / (_options.PriorSuccess + _options.PriorFailure + s + f)) { Offences = entry.Offences };
    }

    /// <summary>Shorthand for <c>Get(node).Score</c>.</summary>
    public double GetScore(PeerId node) => Get(node).Score;

    private double Decay(long fromTicks, long toTicks) =>
        toTicks <= fromTicks ? 1 : Math.Pow(2, -(double)(toTicks - fromTicks) / _options.HalfLife.Ticks);

    private readonly record struct Entry(double Successes, double Failures, long UpdatedTicks, int Offences);
}
