using Microsoft.Extensions.Logging;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>Log messages of PoIP.Hosting (event ids 8000-8099).</summary>
internal static partial class Log
{
    [LoggerMessage(8000, LogLevel.Information, "PoIP {Roles} started as {PeerId}, listening on {Addresses}")]
    public static partial void Started(ILogger logger, string roles, string peerId, string addresses);

    [LoggerMessage(8001, LogLevel.Information, "Known-answer gate: {Detail}")]
    public static partial void KnownAnswerPassed(ILogger logger, string detail);

    [LoggerMessage(8002, LogLevel.Warning, "Known-answer gate: {Detail}")]
    public static partial void KnownAnswerNotRun(ILogger logger, string detail);

    [LoggerMessage(8003, LogLevel.Information, "Dev funding for {PeerId}: {Detail}")]
    public static partial void DevFunded(ILogger logger, string peerId, string detail);

    [LoggerMessage(8004, LogLevel.Debug, "Request refused: {Detail}")]
    public static partial void Refused(ILogger logger, string detail);

    [LoggerMessage(8005, LogLevel.Information, "Audit: {Detail}")]
    public static partial void Audited(ILogger logger, string detail);

    [LoggerMessage(8006, LogLevel.Information, "PoIP host stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(8008, LogLevel.Information, "Payment claim for request {Request}: {Status}")]
    public static partial void Claimed(ILogger logger, string request, string status);

    [LoggerMessage(8009, LogLevel.Warning, "Payment claim for request {Request} failed, will retry: {Detail}")]
    public static partial void ClaimFailed(ILogger logger, string request, string detail);

    [LoggerMessage(8010, LogLevel.Warning, "Payment claim for request {Request} not stored (kept in memory; a restart forgets it): {Detail}")]
    public static partial void ClaimNotStored(ILogger logger, string request, string detail);

    [LoggerMessage(8011, LogLevel.Warning, "Stored payment claim not readable, skipped: {Detail}")]
    public static partial void ClaimUnreadable(ILogger logger, string detail);

    [LoggerMessage(8007, LogLevel.Warning, "Serving stream failed: {Detail}")]
    public static partial void ServeFailed(ILogger logger, string detail);

    [LoggerMessage(8040, LogLevel.Warning, "The ledger did not answer the stake check ({Detail}); serving on the last answer, {Age} old")]
    public static partial void ServingOnLastStake(ILogger logger, string detail, TimeSpan age);

    [LoggerMessage(8041, LogLevel.Warning, "The ledger did not answer the stake check ({Detail}); refusing requests until it does")]
    public static partial void LedgerUnavailable(ILogger logger, string detail);

    [LoggerMessage(8012, LogLevel.Information, "DHT: model {Model}… provided to {Providers} peers; capability record confirmed by {Confirmed} of {Asked}")]
    public static partial void DhtPublished(ILogger logger, string model, int providers, int confirmed, int asked);

    [LoggerMessage(8013, LogLevel.Warning, "DHT publish failed, will retry: {Detail}")]
    public static partial void DhtPublishFailed(ILogger logger, string detail);

    [LoggerMessage(8014, LogLevel.Debug, "DHT: transaction record of {Request}…: {Status}, confirmed by {Confirmed} of {Asked}")]
    public static partial void DhtRecordPut(ILogger logger, string request, string status, int confirmed, int asked);

    [LoggerMessage(8042, LogLevel.Warning, "DHT: transaction record of {Request}… not held by the DHT (confirmed by {Confirmed} of {Asked}, try {Attempt}); retrying in {Seconds} s")]
    public static partial void DhtRecordRetry(ILogger logger, string request, int confirmed, int asked, int attempt, double seconds);

    [LoggerMessage(8049, LogLevel.Warning, "DHT: transaction record of {Request}… not held by the DHT (confirmed by {Confirmed} of {Asked}) and not retried: {Limit} records are being retried already")]
    public static partial void DhtRecordNotRetried(ILogger logger, string request, int confirmed, int asked, int limit);

    [LoggerMessage(8044, LogLevel.Information, "DHT: announced as a validator of model {Model}… to {Providers} peers (try {Attempt})")]
    public static partial void DhtValidatorAnnounced(ILogger logger, string model, int providers, int attempt);

    [LoggerMessage(8043, LogLevel.Information, "DHT: transaction record of {Request}… held by {Confirmed} of {Asked} peers at try {Attempt}")]
    public static partial void DhtRecordHeldAfterRetry(ILogger logger, string request, int confirmed, int asked, int attempt);

    [LoggerMessage(8015, LogLevel.Information, "DHT audit of {Request}…: {Detail}")]
    public static partial void DhtAudit(ILogger logger, string request, string detail);

    [LoggerMessage(8016, LogLevel.Information, "DHT {Protocol} started in {Mode} mode with {Bootstrap} bootstrap peers")]
    public static partial void DhtStarted(ILogger logger, string protocol, string mode, int bootstrap);
}
