namespace PoIP.Core.Ledger;

/// <summary>
/// How long transaction records live and how far in the future they may be dated. A set of records expires
/// with its request: <see cref="Retention"/> after the request's own expiry (long enough for the dispute
/// window and the audits); a request may not expire more than <see cref="MaxRequestHorizon"/> from now; no
/// record or receipt may be dated more than <see cref="MaxClockSkew"/> ahead.
/// </summary>
/// <param name="MaxClockSkew">Tolerated clock difference (default 5 min).</param>
/// <param name="MaxRequestHorizon">Furthest request expiry accepted (default 1 day).</param>
/// <param name="Retention">How long records outlive their request (default 7 days).</param>
public sealed record TransactionRecordTiming(TimeSpan MaxClockSkew, TimeSpan MaxRequestHorizon, TimeSpan Retention)
{
    /// <summary>5 min skew, 1 day horizon, 7 days retention.</summary>
    public static TransactionRecordTiming Default { get; } = new(TimeSpan.FromMinutes(5), TimeSpan.FromDays(1), TimeSpan.FromDays(7));
}
