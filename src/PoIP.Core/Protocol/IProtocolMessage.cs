using PoIP.Core.Signing;

namespace PoIP.Core.Protocol;

/// <summary>A PoIP protocol message: deterministic protobuf bytes, a version, a size-limited decoder.</summary>
/// <typeparam name="TSelf">The message type.</typeparam>
public interface IProtocolMessage<TSelf>
    where TSelf : IProtocolMessage<TSelf>
{
    /// <summary>The envelope type (domain, payload type, size limit) the message is signed under.</summary>
    static abstract EnvelopeType EnvelopeType { get; }

    /// <summary>Decodes and validates the message.</summary>
    /// <exception cref="Errors.PoIPDecodeException">Oversize, truncated, wrong-version, malformed or invalid input.</exception>
    static abstract TSelf Decode(ReadOnlySpan<byte> bytes);

    /// <summary>The deterministic protobuf encoding.</summary>
    byte[] Encode();
}
