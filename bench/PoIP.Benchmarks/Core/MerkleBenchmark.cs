using System.Diagnostics;
using System.Security.Cryptography;
using PoIP.Core.Merkle;

namespace PoIP.Benchmarks.Core;

/// <summary>
/// Merkle root over 64 MiB (4 KiB leaves) vs plain SHA-256 of the same bytes, single-threaded,
/// best of several rounds each, interleaved so both see the same machine state.
/// </summary>
internal sealed class MerkleBenchmark : IMacroBenchmark
{
    public string Name => "merkle";

    public string Description => "Merkle root over 64 MiB vs plain SHA-256 of the same bytes";

    public Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int megabytes = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 64;
        int chunk = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : MerkleTree.DefaultChunkSize;
        byte[] data = new byte[megabytes << 20];
        new Random(1).NextBytes(data);
        byte[] digest = new byte[32];

        double bestMerkle = double.MaxValue, bestSha = double.MaxValue, bestTree = double.MaxValue;
        for (int round = 0; round < 7; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sw = Stopwatch.StartNew();
            SHA256.HashData(data, digest);
            bestSha = Math.Min(bestSha, sw.Elapsed.TotalSeconds);

            sw.Restart();
            using (var builder = new MerkleRootBuilder())
            {
                for (int offset = 0; offset < data.Length; offset += chunk)
                {
                    builder.AppendLeafData(data.AsSpan(offset, Math.Min(chunk, data.Length - offset)));
                }

                GC.KeepAlive(builder.GetRoot());
            }

            bestMerkle = Math.Min(bestMerkle, sw.Elapsed.TotalSeconds);

            sw.Restart();
            GC.KeepAlive(MerkleTree.FromChunks(data, chunk).Root);
            bestTree = Math.Min(bestTree, sw.Elapsed.TotalSeconds);
        }

        double merkle = megabytes / bestMerkle, sha = megabytes / bestSha, tree = megabytes / bestTree;
        BenchOutput.Print(new Dictionary<string, object>
        {
            ["name"] = "merkle",
            ["input_mib"] = megabytes,
            ["leaf_bytes"] = chunk,
            ["merkle_mb_s"] = BenchOutput.Round(merkle, 1),
            ["merkle_tree_with_proofs_mb_s"] = BenchOutput.Round(tree, 1),
            ["sha256_mb_s"] = BenchOutput.Round(sha, 1),
            ["ratio"] = BenchOutput.Round(merkle / sha),
        });
        return Task.FromResult(0);
    }
}
