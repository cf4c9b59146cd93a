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
    [LoggerMessage(3020, LogLevel.Debug, "DHT refused {Type} from {Peer}: {Reason}")]
    public static partial void DhtRefused(ILogger logger, string type, string peer, string reason);

    [LoggerMessage(3021, LogLevel.Information, "DHT disconnecting misbehaving peer {Peer}: {Reason}")]
    public static partial void DhtDisconnect(ILogger logger, string peer, string reason);

    [LoggerMessage(3022, LogLevel.Warning, "DHT RecordStored callback failed: {Reason}")]
    public static partial void DhtCallbackFailed(ILogger logger, string reason);

    [LoggerMessage(3023, LogLevel.Debug, "DHT background task {Task} failed: {Reason}")]
    public static partial void DhtBackgroundFailed(ILogger logger, string task, string reason);

    [LoggerMessage(3024, LogLevel.Debug, "DHT bootstrap peer {Address} unreachable: {Reason}")]
    public static partial void DhtBootstrapFailed(ILogger logger, string address, string reason);

    [LoggerMessage(3025, LogLevel.Debug, "DHT inbound stream from {Peer} ended: {Reason}")]
    public static partial void DhtStreamEnded(ILogger logger, string peer, string reason);
}
