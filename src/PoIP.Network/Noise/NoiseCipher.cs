using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PoIP.Network.Noise;

/// <summary>Noise CipherState for ChaChaPoly: a key and a 64-bit nonce (little-endian after 4 zero bytes).</summary>
internal sealed class NoiseCipher : IDisposable
{
    public const int TagLength = 16;
    private readonly ChaCha20Poly1305 _aead;
    private ulong _nonce;

    public NoiseCipher(ReadOnlySpan<byte> key) => _aead = new ChaCha20Poly1305(key);

    public void Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> destination, ReadOnlySpan<byte> associatedData)
    {
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        _aead.Encrypt(nonce, plaintext, destination[..plaintext.Length], destination.Slice(plaintext.Length, TagLength), associatedData);
    }

    /// <summary>Decrypts ciphertext+tag; throws <see cref="Libp2pException"/> when authentication fails.</summary>
    public void Decrypt(ReadOnlySpan<byte> ciphertextAndTag, Span<byte> destination, ReadOnlySpan<byte> associatedData)
    {
        if (ciphertextAndTag.Length < TagLength)
        {
            throw Internal.Errors.Protocol("noise: frame shorter than its tag");
        }

        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        int length = ciphertextAndTag.Length - TagLength;
        try
        {
            _aead.Decrypt(nonce, ciphertextAndTag[..length], ciphertextAndTag[length..], destination[..length], associatedData);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new Libp2pException(Libp2pErrorCodes.ProtocolViolation, "noise: frame failed authentication", ex);
        }
    }

    private void NextNonce(Span<byte> nonce)
    {
        if (_nonce == ulong.MaxValue)
        {
            throw Internal.Errors.Closed("noise: nonce exhausted");
        }

        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _nonce++);
    }

    public void Dispose() => _aead.Dispose();
}
