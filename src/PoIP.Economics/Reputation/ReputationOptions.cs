namespace PoIP.Economics.Reputation;

/// <summary>How reputation is scored: a Beta(success, failure) posterior whose evidence decays exponentially.</summary>
public sealed class ReputationOptions
{
    /// <summary>Time for old evidence to lose half its weight (default 7 days).</summary>
    public TimeSpan HalfLife { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Prior successes (default 1: an unknown node scores 0.5).</summary>
    public double PriorSuccess { get; set; } = 1;

    /// <summary>Prior failures (default 1).</summary>
    public double PriorFailure { get; set; } = 1;

    /// <summary>Success weight of a completed request (default 1).</summary>
    public double CompletedWeight { get; set; } = 1;

    /// <summary>Success weight of a passed audit (default 3: an audit is stronger evidence than a client's acceptance).</summary>
    public double AuditPassedWeight { get; set; } = 3;

    /// <summary>Failure weight of proven fraud (default 50).</summary>
    public double FraudWeight { get; set; } = 50;

    /// <summary>Failure weight of a timeout (default 2).</summary>
    public double TimeoutWeight { get; set; } = 2;

    /// <summary>Most nodes tracked; beyond it the entry updated longest ago is dropped (default 100,000).</summary>
    public int MaxNodes { get; set; } = 100_000;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HalfLife, TimeSpan.Zero, nameof(HalfLife));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PriorSuccess, 0, nameof(PriorSuccess));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PriorFailure, 0, nameof(PriorFailure));
        foreach (double weight in new[] { CompletedWeight, AuditPassedWeight, FraudWeight, TimeoutWeight })
        {
            ArgumentOutOfRangeException.ThrowIfNegative(weight);
            if (!double.IsFinite(weight))
            {
                throw new ArgumentOutOfRangeException(nameof(ReputationOptions), "weights must be finite.");
            }
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxNodes, 1, nameof(MaxNodes));
    }
}
