using System.Buffers;
using Google.Protobuf;
using PoIP.Core.Encoding;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;

namespace PoIP.Core.Signing;

/// <summary>
/// A libp2p signed envelope (RFC 0002): public key, payload type, payload and an Ed25519 signature
/// over <c>varint(len(domain)) domain varint(len(type)) type varint(len(payload)) payload</c>.
/// Instances exist only after the signature has been verified (<see cref="Open"/>) or made
/// (<see cref="Seal"/>).
/// </summary>
public sealed class SignedEnvelope
{
    private SignedEnvelope(byte[] encoded, Ed25519PublicKey signer, ByteString payload)
    {
        Encoded = encoded;
        PublicKey = signer;
        Signer = signer.ToPeerId();
        PayloadBytes = payload;
    }

    /// <summary>The exact bytes of the envelope (what ids are hashed over).</summary>
    public ReadOnlyMemory<byte> Encoded { get; }

    /// <summary>The signer's public key.</summary>
    public Ed25519PublicKey PublicKey { get; }

    /// <summary>The signer's peer id.</summary>
    public PeerId Signer { get; }

    /// <summary>The verified payload.</summary>
    public ReadOnlyMemory<byte> Payload => PayloadBytes.Memory;

    internal ByteString PayloadBytes { get; }

    /// <summary>Signs <paramref name="payload"/> under <paramref name="type"/> and returns the envelope.</summary>
    /// <exception cref="ArgumentException">The encoded envelope would exceed the type's size limit.</exception>
    public static SignedEnvelope Seal(Ed25519KeyPair keyPair, EnvelopeType type, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(keyPair);
        ArgumentNullException.ThrowIfNull(type);
        byte[] payloadType = System.Text.Encoding.UTF8.GetBytes(type.PayloadType);
        byte[] signature = new byte[Ed25519PublicKey.SignatureLength];
        WithSigningBuffer(type.Domain, payloadType, payload, buffer => keyPair.Sign(buffer, signature));

        var proto = new EnvelopeProto
        {
            PublicKey = new PublicKeyProto { Type = KeyType.Ed25519, Data = ByteString.CopyFrom(keyPair.PublicKey.Raw) },
            PayloadType = ByteString.CopyFrom(payloadType),
            Payload = ByteString.CopyFrom(payload),
            Signature = ByteString.CopyFrom(signature),
        };
        byte[] encoded = proto.ToByteArray();
        if (encoded.Length > type.MaxEncodedLength)
        {
            throw new ArgumentException($"Envelope of {encoded.Length} bytes exceeds the {type.MaxEncodedLength}-byte limit for {type.PayloadType}.", nameof(payload));
        }

        return new SignedEnvelope(encoded, keyPair.PublicKey, proto.Payload);
    }

    /// <summary>
    /// Decodes an envelope and verifies it: size limit, encoding, key type, payload type and the
    /// signature under the type's domain. Nothing in the payload should be read before this returns.
    /// </summary>
    /// <exception cref="PoIPDecodeException">Oversize, truncated or malformed bytes.</exception>
    /// <exception cref="SignatureException">Wrong payload type, key or signature.</exception>
    public static SignedEnvelope Open(ReadOnlyMemory<byte> encoded, EnvelopeType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        const string name = "signed envelope";
        if (encoded.Length > type.MaxEncodedLength)
        {
            throw new PoIPDecodeException(name, DecodeErrorKind.Oversize, $"{encoded.Length} bytes exceeds the {type.MaxEncodedLength}-byte limit for {type.PayloadType}.");
        }

        EnvelopeProto proto = ProtoDecoding.Parse(EnvelopeProto.Parser, encoded, name);
        if (proto.PublicKey is null || proto.PublicKey.Type != KeyType.Ed25519)
        {
            throw new SignatureException(type.Domain, "the envelope's key is missing or not Ed25519.");
        }

        if (!Ed25519PublicKey.TryFromRaw(proto.PublicKey.Data.Span, out var publicKey))
        {
            throw new SignatureException(type.Domain, "the envelope's public key is not a valid Ed25519 key.");
        }

        byte[] expectedType = System.Text.Encoding.UTF8.GetBytes(type.PayloadType);
        if (!proto.PayloadType.Span.SequenceEqual(expectedType))
        {
            throw new SignatureException(type.Domain, $"payload type is not {type.PayloadType}.");
        }

        bool valid = false;
        WithSigningBuffer(type.Domain, expectedType, proto.Payload.Span, buffer => valid = publicKey.Verify(buffer, proto.Signature.Span));
        if (!valid)
        {
            throw new SignatureException(type.Domain, "the signature does not verify.");
        }

        return new SignedEnvelope(encoded.ToArray(), publicKey, proto.Payload);
    }

    private delegate void BufferAction(ReadOnlySpan<byte> buffer);

    private static void WithSigningBuffer(string domain, ReadOnlySpan<byte> payloadType, ReadOnlySpan<byte> payload, BufferAction action)
    {
        int domainLength = System.Text.Encoding.UTF8.GetByteCount(domain);
        int total = UnsignedVarint.GetLength((ulong)domainLength) + domainLength
            + UnsignedVarint.GetLength((ulong)payloadType.Length) + payloadType.Length
            + UnsignedVarint.GetLength((ulong)payload.Length) + payload.Length;
        byte[] rented = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            Span<byte> span = rented;
            int offset = UnsignedVarint.Write(span, (ulong)domainLength);
            offset += System.Text.Encoding.UTF8.GetBytes(domain, span[offset..]);
            offset += UnsignedVarint.Write(span[offset..], (ulong)payloadType.Length);
            payloadType.CopyTo(span[offset..]);
            offset += payloadType.Length;
            offset += UnsignedVarint.Write(span[offset..], (ulong)payload.Length);
            payload.CopyTo(span[offset..]);
            offset += payload.Length;
            action(span[..offset]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
