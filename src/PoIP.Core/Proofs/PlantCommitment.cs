using System.Security.Cryptography;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;

namespace PoIP.Core.Proofs;

/// <summary>
/// The commitment a planter publishes before it releases a planted receipt (one the planter made
/// fraudulent on purpose, through client and node identities it controls, to catch validators
/// that answer without auditing): SHA-256 of <c>"poip-plant/1\0" ‖ planter ‖ receipt id ‖ salt</c>.
/// Revealing the salt later proves the receipt was planted before any verdict on it was signed.
/// </summary>
public static class PlantCommitment
{
    /// <summary>Shortest salt accepted (so commitments cannot be brute-forced over known receipts).</summary>
    public const int MinSaltLength = 16;

    /// <summary>Longest salt accepted.</summary>
    public const int MaxSaltLength = 64;

    private static readonly byte[] Tag = "poip-plant/1\0"u8.ToArray();

    /// <summary>Computes the commitment.</summary>
    /// <exception cref="ArgumentException">The salt is shorter than <see cref="MinSaltLength"/> or longer than <see cref="MaxSaltLength"/>.</exception>
    public static Sha256Digest Compute(PeerId planter, ReceiptId receipt, ReadOnlySpan<byte> salt)
    {
        if (salt.Length is < MinSaltLength or > MaxSaltLength)
        {
            throw new ArgumentException($"a plant salt is {MinSaltLength} to {MaxSaltLength} bytes.", nameof(salt));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Tag);
        hash.AppendData(planter.Bytes);
        hash.AppendData(receipt.Digest.ToArray());
        hash.AppendData(salt);
        Sha256Digest.TryRead(hash.GetHashAndReset(), out var digest);
        return digest;
    }
}
