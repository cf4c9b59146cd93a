using System.Buffers.Binary;
using System.Security.Cryptography;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;

namespace PoIP.Core.Proofs;

/// <summary>
/// The verifiable draw of an appeal panel: every eligible validator is ranked by
/// SHA-256(<c>"poip-appeal-draw/1\0" ‖ seed ‖ peer id</c>) and the lowest ranks are drawn. The seed
/// is fixed by the case before anyone can appeal (<see cref="Seed"/>), so anyone holding the public
/// validator registry can recompute the panel; the appellant cannot re-roll it.
/// </summary>
public static class AppealDraw
{
    private static readonly byte[] SeedTag = "poip-appeal-seed/1\0"u8.ToArray();
    private static readonly byte[] RankTag = "poip-appeal-draw/1\0"u8.ToArray();

    /// <summary>
    /// The seed: SHA-256 of a tag, the receipt id, the conviction time (ledger clock, ms; on a chain
    /// a block hash takes its place) and the hashes of the verdict envelopes that convicted, in the
    /// order they were counted.
    /// </summary>
    public static Sha256Digest Seed(ReceiptId receipt, long convictedAtMs, IEnumerable<Sha256Digest> convictingVerdicts)
    {
        ArgumentNullException.ThrowIfNull(convictingVerdicts);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(SeedTag);
        hash.AppendData(receipt.Digest.ToArray());
        Span<byte> time = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(time, convictedAtMs);
        hash.AppendData(time);
        foreach (var verdict in convictingVerdicts)
        {
            hash.AppendData(verdict.ToArray());
        }

        Sha256Digest.TryRead(hash.GetHashAndReset(), out var digest);
        return digest;
    }

    /// <summary>Draws up to <paramref name="size"/> of <paramref name="eligible"/> (fewer when fewer are eligible), lowest rank first.</summary>
    public static IReadOnlyList<PeerId> Draw(Sha256Digest seed, IEnumerable<PeerId> eligible, int size)
    {
        ArgumentNullException.ThrowIfNull(eligible);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        byte[] seedBytes = seed.ToArray();
        return eligible
            .Distinct()
            .Select(peer => (Peer: peer, Rank: Rank(seedBytes, peer)))
            .OrderBy(x => x.Rank, RankComparer.Instance)
            .Take(size)
            .Select(x => x.Peer)
            .ToList();
    }

    private static byte[] Rank(byte[] seed, PeerId peer)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(RankTag);
        hash.AppendData(seed);
        hash.AppendData(peer.Bytes);
        return hash.GetHashAndReset();
    }

    private sealed class RankComparer : IComparer<byte[]>
    {
        public static readonly RankComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
