using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;

namespace PoIP.Inference.Commitments;

/// <summary>
/// What a commitment is bound to: the request, the model, the engine identity, the input root and the
/// output token root, all as signed in the receipt. The committed values are masked in GF(65521) by a
/// key derived from this binding, so the polynomials decode to the node's activations only under the
/// receipt they were signed in (zero bytes on the wire; the receipt signature is the actual seal).
/// </summary>
/// <param name="RequestId">The request id (hash of the signed request envelope).</param>
/// <param name="ModelId">The model run.</param>
/// <param name="Engine">The engine identity in the receipt.</param>
/// <param name="InputRoot">The receipt's input root.</param>
/// <param name="OutputRoot">The receipt's output token root.</param>
public readonly record struct CommitmentBinding(RequestId RequestId, ModelId ModelId, EngineIdentity Engine, Sha256Digest InputRoot, Sha256Digest OutputRoot)
{
    private static readonly byte[] Domain = "poip/commitment/v1\0"u8.ToArray();

    /// <summary>SHA-256 over the domain and every bound field (engine as its canonical string, length-prefixed).</summary>
    public Sha256Digest ComputeDigest()
    {
        ArgumentNullException.ThrowIfNull(Engine);
        byte[] engine = Encoding.UTF8.GetBytes(Engine.ToString());
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buffer = stackalloc byte[Sha256Digest.Length];
        hash.AppendData(Domain);
        RequestId.Digest.CopyTo(buffer);
        hash.AppendData(buffer);
        ModelId.Digest.CopyTo(buffer);
        hash.AppendData(buffer);
        BinaryPrimitives.WriteInt32BigEndian(buffer, engine.Length);
        hash.AppendData(buffer[..4]);
        hash.AppendData(engine);
        InputRoot.CopyTo(buffer);
        hash.AppendData(buffer);
        OutputRoot.CopyTo(buffer);
        hash.AppendData(buffer);
        return new Sha256Digest(hash.GetHashAndReset());
    }

    /// <summary>The mask key of chunk <paramref name="chunk"/>: the first 64 bits of SHA-256(digest ‖ chunk).</summary>
    internal static ulong ChunkKey(in Sha256Digest digest, int chunk)
    {
        Span<byte> input = stackalloc byte[Sha256Digest.Length + 4];
        digest.CopyTo(input);
        BinaryPrimitives.WriteInt32BigEndian(input[Sha256Digest.Length..], chunk);
        Span<byte> output = stackalloc byte[Sha256Digest.Length];
        SHA256.HashData(input, output);
        return BinaryPrimitives.ReadUInt64BigEndian(output);
    }

    /// <summary>The mask added to the value at hidden index <paramref name="index"/> (SplitMix64 finaliser of key and index, reduced mod p).</summary>
    internal static uint Mask(ulong chunkKey, int index)
    {
        ulong z = chunkKey + ((ulong)(uint)index * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (uint)(z % PrimeField.P);
    }
}
