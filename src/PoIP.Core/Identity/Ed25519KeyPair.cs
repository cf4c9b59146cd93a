using NSec.Cryptography;

namespace PoIP.Core.Identity;

/// <summary>
/// An Ed25519 key pair: one key is both a peer's libp2p identity and the signer of its requests,
/// receipts, records and verdicts. Dispose to wipe the private key.
/// </summary>
public sealed class Ed25519KeyPair : IDisposable
{
    /// <summary>Length of the private seed.</summary>
    public const int SeedLength = 32;

    private readonly Key _key;

    private Ed25519KeyPair(Key key)
    {
        _key = key;
        PublicKey = Ed25519PublicKey.FromRaw(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        PeerId = PublicKey.ToPeerId();
    }

    /// <summary>The public half.</summary>
    public Ed25519PublicKey PublicKey { get; }

    /// <summary>The peer id derived from the public key.</summary>
    public PeerId PeerId { get; }

    /// <summary>Generates a new random key pair.</summary>
    public static Ed25519KeyPair Generate() =>
        new(Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>Recreates a key pair from its 32-byte seed (RFC 8032 private key).</summary>
    /// <exception cref="ArgumentException">The seed is not 32 bytes.</exception>
    public static Ed25519KeyPair FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new ArgumentException($"An Ed25519 seed is {SeedLength} bytes.", nameof(seed));
        }

        var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return new Ed25519KeyPair(key);
    }

    /// <summary>Signs <paramref name="data"/> (prefer <see cref="Signing.SignedEnvelope"/>, which adds domain separation).</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => SignatureAlgorithm.Ed25519.Sign(_key, data);

    /// <summary>Signs into a 64-byte destination.</summary>
    public void Sign(ReadOnlySpan<byte> data, Span<byte> signature) => SignatureAlgorithm.Ed25519.Sign(_key, data, signature);

    /// <summary>Exports the 32-byte seed. Handle with care.</summary>
    public byte[] ExportSeed() => _key.Export(KeyBlobFormat.RawPrivateKey);

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
