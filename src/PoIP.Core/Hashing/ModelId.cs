using System.Security.Cryptography;

namespace PoIP.Core.Hashing;

/// <summary>
/// Identity of a model: the SHA-256 of the whole GGUF file (weights, quantisation and tokenizer
/// included). Two files with one byte of difference are different models.
/// </summary>
public readonly record struct ModelId(Sha256Digest Digest)
{
    /// <summary>Hashes a model file, streaming it, reporting bytes hashed so far.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static async Task<ModelId> FromFileAsync(string path, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            return await FromStreamAsync(stream, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Hashes a stream from its current position to its end.</summary>
    public static async Task<ModelId> FromStreamAsync(Stream stream, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long total = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
                progress?.Report(total);
            }

            return new ModelId(new Sha256Digest(hash.GetHashAndReset()));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses the hex form.</summary>
    public static ModelId Parse(string hex) => new(Sha256Digest.ParseHex(hex));

    /// <summary>
    /// The sha2-256 multihash of the GGUF (<c>0x12 0x20</c> + digest): the key a node provides the model under in
    /// the DHT, which standard kad-dht peers accept as a CIDv0.
    /// </summary>
    public byte[] ToMultihash()
    {
        byte[] multihash = new byte[2 + Sha256Digest.Length];
        multihash[0] = 0x12;
        multihash[1] = 0x20;
        Digest.CopyTo(multihash.AsSpan(2));
        return multihash;
    }

    /// <summary>Reads a sha2-256 multihash (<c>0x12 0x20</c> + 32 bytes) as a model id.</summary>
    public static bool TryFromMultihash(ReadOnlySpan<byte> multihash, out ModelId model)
    {
        model = default;
        if (multihash.Length != 2 + Sha256Digest.Length || multihash[0] != 0x12 || multihash[1] != 0x20)
        {
            return false;
        }

        model = new ModelId(new Sha256Digest(multihash[2..]));
        return true;
    }

    /// <summary>Lower-case hex of the digest.</summary>
    public override string ToString() => Digest.ToString();
}
