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

    /// <summary>Lower-case hex of the digest.</summary>
    public override string ToString() => Digest.ToString();
}
