using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Testing.Economics;

namespace PoIP.Benchmarks.Economics;

/// <summary>
/// Escrow open + settle pairs per second on the embedded SQLite WAL ledger (each operation its own
/// journaled transaction), against raw single-row SQLite inserts of the same row count with the
/// same durability settings, in the same run; then bytes per account on disk and in the managed heap.
/// </summary>
internal sealed class LedgerBenchmark : IMacroBenchmark
{
    public string Name => "ledger";

    public string Description => "escrow open+settle pairs/s on SQLite WAL vs raw SQLite inserts; bytes per account";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int pairs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2_000;
        int accounts = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
        string directory = Path.Combine(Path.GetTempPath(), "poip-ledger-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var figures = new Dictionary<string, object> { ["name"] = "ledger", ["pairs"] = pairs };
            foreach (bool full in new[] { false, true })
            {
                string mode = full ? "full" : "normal";
                double raw = RawInserts(Path.Combine(directory, $"raw-{mode}.db"), 2 * pairs, full);
                double ledger = await EscrowPairsAsync(Path.Combine(directory, $"ledger-{mode}.db"), pairs, full, cancellationToken).ConfigureAwait(false);
                figures[$"sync_{mode}_pairs_per_s"] = BenchOutput.Round(ledger, 1);
                figures[$"sync_{mode}_ledger_ops_per_s"] = BenchOutput.Round(2 * ledger, 1);
                figures[$"sync_{mode}_raw_inserts_per_s"] = BenchOutput.Round(raw, 1);
                figures[$"sync_{mode}_ratio"] = BenchOutput.Round(2 * ledger / raw);
            }

            var (diskBytes, heapBytes) = await PerAccountAsync(Path.Combine(directory, "accounts.db"), accounts, cancellationToken).ConfigureAwait(false);
            figures["accounts"] = accounts;
            figures["db_bytes_per_account"] = BenchOutput.Round(diskBytes, 1);
            figures["managed_heap_bytes_per_account"] = BenchOutput.Round(heapBytes, 1);
            BenchOutput.Print(figures);
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<double> EscrowPairsAsync(string path, int pairs, bool full, CancellationToken cancellationToken)
    {
        var clock = new ManualClock();
        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = path, TimeProvider = clock, SynchronousFull = full });
        using var nodeKey = Ed25519KeyPair.Generate();
        using var clientKey = Ed25519KeyPair.Generate();
        PeerId node = nodeKey.PeerId, client = clientKey.PeerId;
        await Require(ledger.DepositAsync(OperationId.New(), node, TokenAmount.FromTokens(1_000), cancellationToken)).ConfigureAwait(false);
        await Require(ledger.StakeAsync(OperationId.New(), node, TokenAmount.FromTokens(1_000), cancellationToken)).ConfigureAwait(false);
        await Require(ledger.DepositAsync(OperationId.New(), client, TokenAmount.FromTokens(1_000_000), cancellationToken)).ConfigureAwait(false);
        // Signed outside the timed loop: the ledger verifies both signatures of every settlement.
        var requests = Enumerable.Range(0, pairs).Select(i => EvidenceFactory.Request(clientKey, (ulong)i, TokenAmount.FromTokens(2))).ToArray();
        var receipts = requests.Select(r => EvidenceFactory.Receipt(nodeKey, r, TokenAmount.FromTokens(1))).ToArray();
        var window = (await ledger.GetParametersAsync(cancellationToken).ConfigureAwait(false)).DisputeWindow;

        var watch = Stopwatch.StartNew();
        foreach (var request in requests)
        {
            await Require(ledger.OpenEscrowAsync(OperationId.New(), new RequestId(request.Hash), client, node, TokenAmount.FromTokens(2), cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        clock.Advance(window);
        for (int i = 0; i < requests.Length; i++)
        {
            await Require(ledger.SettleEscrowAsync(OperationId.New(), requests[i], receipts[i], cancellationToken)).ConfigureAwait(false);
        }

        double seconds = watch.Elapsed.TotalSeconds;
        if (!(await ledger.GetTotalsAsync(cancellationToken).ConfigureAwait(false)).IsConserved)
        {
            throw new InvalidOperationException("money not conserved");
        }

        return pairs / seconds;
    }

    private static double RawInserts(string path, int rows, bool full)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={(full ? "FULL" : "NORMAL")}; CREATE TABLE rows (id BLOB PRIMARY KEY, amount BLOB NOT NULL);";
            pragma.ExecuteNonQuery();
        }

        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO rows(id, amount) VALUES ($id, $amount)";
        var id = insert.Parameters.Add("$id", SqliteType.Blob);
        var amount = insert.Parameters.Add("$amount", SqliteType.Blob);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < rows; i++)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            insert.Transaction = transaction;
            id.Value = Guid.NewGuid().ToByteArray();
            amount.Value = new byte[16];
            insert.ExecuteNonQuery();
            transaction.Commit();
        }

        return rows / watch.Elapsed.TotalSeconds;
    }

    private static async Task<(double Disk, double Heap)> PerAccountAsync(string path, int accounts, CancellationToken cancellationToken)
    {
        var keys = Enumerable.Range(0, accounts).Select(i =>
        {
            byte[] seed = new byte[32];
            BitConverter.TryWriteBytes(seed, i + 1);
            using var key = Ed25519KeyPair.FromSeed(seed);
            return key.PeerId;
        }).ToArray();
        var options = new EmbeddedEconomicsOptions { DatabasePath = path, SynchronousFull = false };
        EmbeddedStakeManager.Open(options).Dispose();
        long diskBefore = new FileInfo(path).Length;
        long heapBefore, heapAfter;
        using (var ledger = EmbeddedStakeManager.Open(options))
        {
            heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            foreach (var peer in keys)
            {
                await Require(ledger.DepositAsync(OperationId.New(), peer, TokenAmount.FromTokens(1), cancellationToken)).ConfigureAwait(false);
            }

            heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        }

        // Closing the last connection checkpoints the WAL into the main file: its growth is the
        // account rows, their index entries and the journal rows of the deposits.
        long diskAfter = new FileInfo(path).Length;
        return ((double)(diskAfter - diskBefore) / accounts, (double)Math.Max(0, heapAfter - heapBefore) / accounts);
    }

    private static async Task Require(Task<EconomicResult> operation)
    {
        var result = await operation.ConfigureAwait(false);
        if (!result.IsApplied)
        {
            throw new InvalidOperationException($"{result.Status}: {result.Detail}");
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
