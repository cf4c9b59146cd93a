using PoIP.Core.Errors;

namespace PoIP.Network;

/// <summary>
/// A libp2p connection or stream failed: the peer broke a protocol rule, a limit was reached, a
/// timeout expired or the peer does not speak a protocol. <see cref="PoIPException.Code"/> is one of
/// the <c>p2p.*</c> codes in <see cref="Libp2pErrorCodes"/>.
/// </summary>
public sealed class Libp2pException : PoIPException
{
    /// <summary>Creates the exception.</summary>
    public Libp2pException(string code, string message, Exception? innerException = null)
        : base(code, message, innerException)
    {
    }
}

/// <summary>Stable codes carried by <see cref="Libp2pException"/>.</summary>
public static class Libp2pErrorCodes
{
    /// <summary>The peer sent bytes that break the protocol.</summary>
    public const string ProtocolViolation = "p2p.protocol";

    /// <summary>The peer does not support the requested protocol.</summary>
    public const string ProtocolNotSupported = "p2p.unsupported";

    /// <summary>The handshake failed (bad signature, wrong peer, low-order key).</summary>
    public const string HandshakeFailed = "p2p.handshake";

    /// <summary>A timeout expired.</summary>
    public const string Timeout = "p2p.timeout";

    /// <summary>A configured limit was reached.</summary>
    public const string LimitExceeded = "p2p.limit";

    /// <summary>The connection or stream was closed or reset.</summary>
    public const string Closed = "p2p.closed";

    /// <summary>The address cannot be dialed by this host.</summary>
    public const string Unreachable = "p2p.unreachable";
}
