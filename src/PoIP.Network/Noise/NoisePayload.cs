using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Network.Noise.Wire;

namespace PoIP.Network.Noise;

/// <summary>The libp2p handshake payload (identity key, signature over the static key, extensions), generated from <c>Wire/noise.proto</c>.</summary>
internal sealed record NoisePayload(byte[] IdentityKey, byte[] IdentitySignature, IReadOnlyList<string> StreamMuxers)
{
    public const int MaxMuxers = 16;
    public const int MaxLength = 4096;
    private const int MaxKeyLength = 256;
    private const int MaxMuxerLength = 256;

    public byte[] Encode()
    {
        var payload = new NoiseHandshakePayload
        {
            IdentityKey = ByteString.CopyFrom(IdentityKey),
            IdentitySig = ByteString.CopyFrom(IdentitySignature),
        };
        if (StreamMuxers.Count > 0)
        {
            payload.Extensions = new NoiseExtensions();
            payload.Extensions.StreamMuxers.AddRange(StreamMuxers);
        }

        return payload.ToByteArray();
    }

    /// <exception cref="PoIPDecodeException">Oversize, malformed, or a field over its limit.</exception>
    public static NoisePayload Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxLength)
        {
            throw Error(DecodeErrorKind.Oversize, "payload too large");
        }

        NoiseHandshakePayload payload;
        try
        {
            payload = NoiseHandshakePayload.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new PoIPDecodeException(nameof(NoisePayload), DecodeErrorKind.Malformed, ex.Message, ex);
        }

        if (payload.IdentityKey.Length > MaxKeyLength || payload.IdentitySig.Length > MaxKeyLength)
        {
            throw Error(DecodeErrorKind.Oversize, $"identity key or signature longer than {MaxKeyLength} bytes");
        }

        var muxers = payload.Extensions?.StreamMuxers ?? [];
        if (muxers.Count > MaxMuxers)
        {
            throw Error(DecodeErrorKind.Oversize, "too many stream muxers");
        }

        if (muxers.Any(m => m.Length > MaxMuxerLength))
        {
            throw Error(DecodeErrorKind.Oversize, $"a stream muxer id is longer than {MaxMuxerLength}");
        }

        return new NoisePayload(payload.IdentityKey.ToByteArray(), payload.IdentitySig.ToByteArray(), [.. muxers]);
    }

    private static PoIPDecodeException Error(DecodeErrorKind kind, string detail) => new(nameof(NoisePayload), kind, detail);
}
