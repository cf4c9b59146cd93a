using PoIP.Core.Errors;

namespace PoIP.Network.Internal;

internal static class Errors
{
    public static Libp2pException Protocol(string message) => new(Libp2pErrorCodes.ProtocolViolation, message);

    public static Libp2pException Limit(string message) => new(Libp2pErrorCodes.LimitExceeded, message);

    public static Libp2pException Closed(string message) => new(Libp2pErrorCodes.Closed, message);

    public static Libp2pException Handshake(string message) => new(Libp2pErrorCodes.HandshakeFailed, message);

    public static PoIPDecodeException Decode(string type, DecodeErrorKind kind, string detail) => new(type, kind, detail);
}
