using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Signing;

namespace PoIP.Core.Protocol;

/// <summary>A protocol message together with the verified envelope that carries it. Create with <see cref="SignedMessage"/>.</summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class SignedMessage<T>
    where T : IProtocolMessage<T>
{
    internal SignedMessage(SignedEnvelope envelope, T message)
    {
        Envelope = envelope;
        Message = message;
        Hash = Sha256Digest.Compute(envelope.Encoded.Span);
    }

    /// <summary>The verified envelope.</summary>
    public SignedEnvelope Envelope { get; }

    /// <summary>The decoded message.</summary>
    public T Message { get; }

    /// <summary>The signer.</summary>
    public PeerId Signer => Envelope.Signer;

    /// <summary>SHA-256 of the envelope bytes (request and receipt ids are this hash).</summary>
    public Sha256Digest Hash { get; }
}

/// <summary>Signs and opens protocol messages.</summary>
public static class SignedMessage
{
    /// <summary>Signs a message.</summary>
    public static SignedMessage<T> Create<T>(Ed25519KeyPair keyPair, T message)
        where T : IProtocolMessage<T>
    {
        ArgumentNullException.ThrowIfNull(message);
        return new SignedMessage<T>(SignedEnvelope.Seal(keyPair, T.EnvelopeType, message.Encode()), message);
    }

    /// <summary>Verifies the envelope (size, type, domain, signature), then decodes its payload.</summary>
    /// <exception cref="Errors.PoIPDecodeException">Bad bytes.</exception>
    /// <exception cref="Errors.SignatureException">Bad signature, domain or payload type.</exception>
    public static SignedMessage<T> Open<T>(ReadOnlyMemory<byte> encoded)
        where T : IProtocolMessage<T>
    {
        var envelope = SignedEnvelope.Open(encoded, T.EnvelopeType);
        return new SignedMessage<T>(envelope, T.Decode(envelope.Payload.Span));
    }
}
