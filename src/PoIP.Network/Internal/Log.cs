using Microsoft.Extensions.Logging;

namespace PoIP.Network.Internal;

/// <summary>Log messages of PoIP.Network (event ids 3000-3099).</summary>
internal static partial class Log
{
    [LoggerMessage(3000, LogLevel.Information, "Listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(3001, LogLevel.Debug, "Connection {Direction} with {Peer} at {Address} established")]
    public static partial void ConnectionOpened(ILogger logger, string direction, string peer, string address);

    [LoggerMessage(3002, LogLevel.Debug, "Connection with {Peer} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string peer, string reason);

    [LoggerMessage(3003, LogLevel.Information, "Inbound handshake from {Address} failed: {Reason}")]
    public static partial void InboundHandshakeFailed(ILogger logger, string address, string reason);

    [LoggerMessage(3004, LogLevel.Warning, "Yamux protocol violation, closing: {Reason}")]
    public static partial void YamuxViolation(ILogger logger, string reason);

    [LoggerMessage(3005, LogLevel.Debug, "Peer sent GoAway ({Code})")]
    public static partial void YamuxGoAway(ILogger logger, uint code);

    [LoggerMessage(3006, LogLevel.Information, "Refused stream {StreamId}: {Limit} inbound streams open")]
    public static partial void YamuxStreamRefused(ILogger logger, uint streamId, int limit);

    [LoggerMessage(3007, LogLevel.Debug, "Inbound stream {StreamId} failed: {Reason}")]
    public static partial void InboundStreamFailed(ILogger logger, uint streamId, string reason);

    [LoggerMessage(3008, LogLevel.Information, "Keep-alive ping unanswered; closing the connection")]
    public static partial void KeepAliveTimeout(ILogger logger);

    [LoggerMessage(3009, LogLevel.Information, "Connection refused: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string reason);

    [LoggerMessage(3010, LogLevel.Debug, "Identify from {Peer} failed: {Reason}")]
    public static partial void IdentifyFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(3011, LogLevel.Debug, "Closing idle connection with {Peer}")]
    public static partial void IdleClose(ILogger logger, string peer);
}
