using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;
using PoIP.Core.Identity;
using PoIP.Network.Internal;

namespace PoIP.Network.Noise;

/// <summary>Result of a completed Noise XX handshake.</summary>
internal sealed record NoiseResult(NoiseCipher Send, NoiseCipher Receive, PeerId RemotePeer, Ed25519PublicKey RemoteKey, IReadOnlyList<string> RemoteMuxers);

/// <summary>
/// Noise_XX_25519_ChaChaPoly_SHA256 with the libp2p payload. X25519 from NSec (low-order keys
/// rejected), ChaCha20-Poly1305, SHA-256 and HKDF from the BCL. Messages are 2-byte big-endian
/// length prefixed, read exactly (no byte past the handshake is consumed).
/// </summary>
internal sealed class NoiseHandshake : IDisposable
{
    public const string ProtocolId = "/noise";
    public const int MaxMessageLength = 65535;
    private static readonly byte[] ProtocolName = Encoding.ASCII.GetBytes("Noise_XX_25519_ChaChaPoly_SHA256");
    private static readonly byte[] SignaturePrefix = Encoding.ASCII.GetBytes("noise-libp2p-static-key:");

    private readonly byte[] _h = new byte[32];
    private readonly byte[] _ck = new byte[32];
    private NoiseCipher? _k;
    private readonly Key _staticKey;
    private readonly Key _ephemeral;
    private readonly byte[] _staticPublic;
    private readonly byte[] _ephemeralPublic;
    private byte[] _remoteEphemeral = [];
    private byte[] _remoteStatic = [];
    private readonly Ed25519KeyPair _identity;
    private readonly IReadOnlyList<string> _muxers;

    private NoiseHandshake(Key staticKey, Ed25519KeyPair identity, IReadOnlyList<string> muxers)
    {
        _staticKey = staticKey;
        _identity = identity;
        _muxers = muxers;
        _staticPublic = staticKey.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        _ephemeral = Key.Create(KeyAgreementAlgorithm.X25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        _ephemeralPublic = _ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        ProtocolName.CopyTo(_h, 0); // name is exactly 32 bytes: h = name
        _h.CopyTo(_ck, 0);
        MixHash([]); // empty prologue
    }

    public static Key CreateStaticKey() => Key.Create(KeyAgreementAlgorithm.X25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });

    /// <summary>Runs the initiator side (messages 1 and 3 written, 2 read).</summary>
    public static async Task<NoiseResult> InitiateAsync(Stream stream, Key staticKey, Ed25519KeyPair identity, IReadOnlyList<string> muxers, PeerId? expectedPeer, CancellationToken cancellationToken)
    {
        using var hs = new NoiseHandshake(staticKey, identity, muxers);
        // -> e
        byte[] m1 = hs.WriteMessage1();
        await WriteFrameAsync(stream, m1, cancellationToken).ConfigureAwait(false);
        // <- e, ee, s, es, payload
        byte[] m2 = await ReadFrameAsync(stream, cancellationToken).ConfigureAwait(false);
        var remote = hs.ReadMessage2(m2);
        var verified = Verify(remote, hs._remoteStatic, expectedPeer);
        // -> s, se, payload
        byte[] m3 = hs.WriteMessage3();
        await WriteFrameAsync(stream, m3, cancellationToken).ConfigureAwait(false);
        var (k1, k2) = hs.Split();
        return new NoiseResult(k1, k2, verified.Peer, verified.Key, remote.StreamMuxers);
    }

    /// <summary>Runs the responder side.</summary>
    public static async Task<NoiseResult> RespondAsync(Stream stream, Key staticKey, Ed25519KeyPair identity, IReadOnlyList<string> muxers, CancellationToken cancellationToken)
    {
        using var hs = new NoiseHandshake(staticKey, identity, muxers);
        byte[] m1 = await ReadFrameAsync(stream, cancellationToken).ConfigureAwait(false);
        hs.ReadMessage1(m1);
        byte[] m2 = hs.WriteMessage2();
        await WriteFrameAsync(stream, m2, cancellationToken).ConfigureAwait(false);
        byte[] m3 = await ReadFrameAsync(stream, cancellationToken).ConfigureAwait(false);
        var remote = hs.ReadMessage3(m3);
        var verified = Verify(remote, hs._remoteStatic, expectedPeer: null);
        var (k1, k2) = hs.Split();
        return new NoiseResult(k2, k1, verified.Peer, verified.Key, remote.StreamMuxers);
    }

    internal byte[] WriteMessage1()
    {
        MixHash(_ephemeralPublic);
        MixHash([]); // EncryptAndHash(empty payload) without a key
        return (byte[])_ephemeralPublic.Clone();
    }

    internal void ReadMessage1(ReadOnlySpan<byte> message)
    {
        if (message.Length < 32)
        {
            throw Errors.Handshake("noise: message 1 too short");
        }

        _remoteEphemeral = message[..32].ToArray();
        MixHash(_remoteEphemeral);
        // Any payload in message 1 is plaintext and ignored (libp2p sends none).
        MixHash(message[32..]);
    }

    internal byte[] WriteMessage2()
    {
        var output = new List<byte>(256);
        MixHash(_ephemeralPublic);
        output.AddRange(_ephemeralPublic);
        MixKey(Dh(_ephemeral, _remoteEphemeral));
        output.AddRange(EncryptAndHash(_staticPublic));
        MixKey(Dh(_staticKey, _remoteEphemeral));
        output.AddRange(EncryptAndHash(BuildPayload()));
        return [.. output];
    }

    internal NoisePayload ReadMessage2(ReadOnlySpan<byte> message)
    {
        if (message.Length < 32 + 48 + 16)
        {
            throw Errors.Handshake("noise: message 2 too short");
        }

        _remoteEphemeral = message[..32].ToArray();
        MixHash(_remoteEphemeral);
        MixKey(Dh(_ephemeral, _remoteEphemeral));
        _remoteStatic = DecryptAndHash(message.Slice(32, 48));
        MixKey(Dh(_ephemeral, _remoteStatic));
        return NoisePayload.Decode(DecryptAndHash(message[80..]));
    }

    internal byte[] WriteMessage3()
    {
        var output = new List<byte>(256);
        output.AddRange(EncryptAndHash(_staticPublic));
        MixKey(Dh(_staticKey, _remoteEphemeral));
        output.AddRange(EncryptAndHash(BuildPayload()));
        return [.. output];
    }

    internal NoisePayload ReadMessage3(ReadOnlySpan<byte> message)
    {
        if (message.Length < 48 + 16)
        {
            throw Errors.Handshake("noise: message 3 too short");
        }

        _remoteStatic = DecryptAndHash(message[..48]);
        MixKey(Dh(_ephemeral, _remoteStatic));
        return NoisePayload.Decode(DecryptAndHash(message[48..]));
    }

    private (NoiseCipher, NoiseCipher) Split()
    {
        Span<byte> okm = stackalloc byte[64];
        Hkdf(_ck, [], okm);
        var result = (new NoiseCipher(okm[..32]), new NoiseCipher(okm[32..]));
        CryptographicOperations.ZeroMemory(okm);
        return result;
    }

    private byte[] BuildPayload()
    {
        var toSign = new byte[SignaturePrefix.Length + 32];
        SignaturePrefix.CopyTo(toSign, 0);
        _staticPublic.CopyTo(toSign, SignaturePrefix.Length);
        return new NoisePayload(_identity.PublicKey.ToProtobuf(), _identity.Sign(toSign), _muxers).Encode();
    }

    private static (PeerId Peer, Ed25519PublicKey Key) Verify(NoisePayload payload, byte[] remoteStatic, PeerId? expectedPeer)
    {
        if (!Ed25519PublicKey.TryReadProtobuf(payload.IdentityKey, out var key))
        {
            throw Errors.Handshake("noise: remote identity key is not an Ed25519 key");
        }

        var toVerify = new byte[SignaturePrefix.Length + 32];
        SignaturePrefix.CopyTo(toVerify, 0);
        remoteStatic.CopyTo(toVerify, SignaturePrefix.Length);
        if (!key.Verify(toVerify, payload.IdentitySignature))
        {
            throw Errors.Handshake("noise: identity signature over the static key is invalid");
        }

        var peer = key.ToPeerId();
        if (expectedPeer is { } expected && expected != peer)
        {
            throw Errors.Handshake($"noise: dialed {expected} but the remote is {peer}");
        }

        return (peer, key);
    }

    private static byte[] Dh(Key local, byte[] remotePublic)
    {
        if (!PublicKey.TryImport(KeyAgreementAlgorithm.X25519, remotePublic, KeyBlobFormat.RawPublicKey, out var remote) || remote is null)
        {
            throw Errors.Handshake("noise: remote X25519 key is malformed");
        }

        using var shared = KeyAgreementAlgorithm.X25519.Agree(local, remote, new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport })
            ?? throw Errors.Handshake("noise: remote X25519 key has low order");
        return shared.Export(SharedSecretBlobFormat.RawSharedSecret);
    }

    /// <summary>
    /// Noise's HKDF with two outputs: RFC 5869 HKDF-SHA256 with the chaining key as salt, the input key
    /// material as IKM and no info, 64 bytes. Split's input key is empty: OpenSSL's HKDF accepts an empty
    /// array but throws on an empty span with no memory behind it (tried on .NET 10, OpenSSL 3.0).
    /// </summary>
    internal static void Hkdf(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> inputKeyMaterial, Span<byte> output64) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, inputKeyMaterial.IsEmpty ? Array.Empty<byte>() : inputKeyMaterial, output64[..64], chainingKey, []);

    private void MixHash(ReadOnlySpan<byte> data)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(_h);
        sha.AppendData(data);
        sha.GetHashAndReset(_h);
    }

    private void MixKey(byte[] ikm)
    {
        Span<byte> okm = stackalloc byte[64];
        Hkdf(_ck, ikm, okm);
        okm[..32].CopyTo(_ck);
        _k?.Dispose();
        _k = new NoiseCipher(okm[32..]);
        CryptographicOperations.ZeroMemory(okm);
        CryptographicOperations.ZeroMemory(ikm);
    }

    private byte[] EncryptAndHash(ReadOnlySpan<byte> plaintext)
    {
        if (_k is null)
        {
            MixHash(plaintext);
            return plaintext.ToArray();
        }

        var output = new byte[plaintext.Length + NoiseCipher.TagLength];
        _k.Encrypt(plaintext, output, _h);
        MixHash(output);
        return output;
    }

    private byte[] DecryptAndHash(ReadOnlySpan<byte> ciphertext)
    {
        if (_k is null)
        {
            MixHash(ciphertext);
            return ciphertext.ToArray();
        }

        var output = new byte[ciphertext.Length - NoiseCipher.TagLength];
        try
        {
            _k.Decrypt(ciphertext, output, _h);
        }
        catch (Libp2pException ex)
        {
            throw new Libp2pException(Libp2pErrorCodes.HandshakeFailed, "noise: handshake message failed authentication", ex);
        }

        MixHash(ciphertext);
        return output;
    }

    private static async Task WriteFrameAsync(Stream stream, byte[] message, CancellationToken cancellationToken)
    {
        var frame = new byte[2 + message.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)message.Length);
        message.CopyTo(frame, 2);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        var prefix = new byte[2];
        try
        {
            await stream.ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false);
            int length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
            var message = new byte[length];
            await stream.ReadExactlyAsync(message, cancellationToken).ConfigureAwait(false);
            return message;
        }
        catch (EndOfStreamException ex)
        {
            throw new Libp2pException(Libp2pErrorCodes.Closed, "noise: connection closed during the handshake", ex);
        }
    }

    public void Dispose()
    {
        _k?.Dispose();
        _ephemeral.Dispose();
    }
}
