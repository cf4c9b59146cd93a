using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using PoIP.Core.Economics;
using PoIP.Core.Money;
using PoIP.Economics.Embedded.Operations;

namespace PoIP.Economics.Embedded;

/// <summary>
/// The single writer of one ledger database. Each operation runs in one <c>BEGIN IMMEDIATE</c>
/// transaction: idempotency check, apply, journal append, commit, or roll back on refusal or fault.
/// A semaphore serializes every caller of this instance; <c>BEGIN IMMEDIATE</c> and the busy
/// timeout serialize against other processes.
/// </summary>
internal sealed class LedgerEngine : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqlCommands _sql;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _time;
    private bool _disposed;

    private LedgerEngine(SqliteConnection connection, TimeProvider time)
    {
        _connection = connection;
        _sql = new SqlCommands(connection);
        _time = time;
    }

    /// <summary>Opens (creating and writing genesis if new) a ledger database.</summary>
    public static LedgerEngine Open(string path, TimeProvider time, bool synchronousFull, GenesisOperation? genesis)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = path == ":memory:" ? SqliteOpenMode.Memory : SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={(synchronousFull ? "FULL" : "NORMAL")}; PRAGMA busy_timeout=30000;";
                pragma.ExecuteNonQuery();
                pragma.CommandText = LedgerSchema.Create;
                pragma.ExecuteNonQuery();
            }

            var engine = new LedgerEngine(connection, time);
            if (genesis is not null && engine.JournalLength() == 0)
            {
                var result = engine.ExecuteLocked(GenesisOperation.Id, genesis, time.GetUtcNow().ToUnixTimeMilliseconds());
                if (!result.IsApplied)
                {
                    throw new ArgumentException("Genesis refused: " + result.Detail);
                }
            }

            return engine;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Applies <paramref name="operation"/> once under <paramref name="id"/>, at the clock's current time.</summary>
    public async Task<EconomicResult> ExecuteAsync(OperationId id, LedgerOperation operation, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ExecuteLocked(id, operation, _time.GetUtcNow().ToUnixTimeMilliseconds());
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs a read under the writer gate (consistent with every committed operation).</summary>
    public async Task<T> ReadAsync<T>(Func<LedgerTransaction, T> read, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _sql.Transaction = null;
            return read(new LedgerTransaction(_sql, default, _time.GetUtcNow().ToUnixTimeMilliseconds()));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Where every base unit is.</summary>
    public Task<EconomicTotals> TotalsAsync(CancellationToken cancellationToken) => ReadAsync(ComputeTotals, cancellationToken);

    /// <summary>Replays the journal into a fresh in-memory ledger and compares every state table.</summary>
    public async Task<JournalVerification> VerifyJournalAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var replica = Open(":memory:", _time, synchronousFull: false, genesis: null);
            long count = 0;
            _sql.Transaction = null;
            var entries = new List<(byte[] Id, long Kind, long AtMs, byte[] Args)>();
            using (var reader = _sql.Query("SELECT op_id, kind, at_ms, args FROM journal ORDER BY seq"))
            {
                while (reader.Read())
                {
                    entries.Add(((byte[])reader.GetValue(0), reader.GetInt64(1), reader.GetInt64(2), (byte[])reader.GetValue(3)));
                }
            }

            foreach (var (id, kind, atMs, args) in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var operation = OperationCodec.Decode((OperationKind)kind, args);
                var result = replica.ExecuteLocked(new OperationId(new Guid(id)), operation, atMs);
                count++;
                if (!result.IsApplied)
                {
                    return new JournalVerification(false, count, $"journal entry {count} ({(OperationKind)kind}) did not apply on replay: {result.Status} {result.Detail}");
                }
            }

            foreach (var (table, orderBy) in LedgerSchema.StateTables)
            {
                string mine = Dump(_sql, table, orderBy);
                string theirs = Dump(replica._sql, table, orderBy);
                if (!string.Equals(mine, theirs, StringComparison.Ordinal))
                {
                    return new JournalVerification(false, count, $"table {table} differs from its replay.");
                }
            }

            return new JournalVerification(true, count, string.Empty);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _gate.Wait();
        try
        {
            _disposed = true;
            _sql.Dispose();
            _connection.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }

    internal static EconomicTotals ComputeTotals(LedgerTransaction ledger)
    {
        var sql = ledger.Sql;
        return new EconomicTotals(
            ledger.Total(LedgerTransaction.Supply),
            Sum(sql, "SELECT balance FROM accounts"),
            Sum(sql, "SELECT bonded FROM stakes"),
            Sum(sql, "SELECT amount FROM unbonding"),
            Sum(sql, "SELECT cap FROM escrows WHERE state = 1"),
            ledger.Total(LedgerTransaction.Fund),
            ledger.Total(LedgerTransaction.Burned));
    }

    private long JournalLength() => _sql.Scalar("SELECT COUNT(*) FROM journal") is long n ? n : 0;

    private EconomicResult ExecuteLocked(OperationId id, LedgerOperation operation, long nowMs)
    {
        using var transaction = _connection.BeginTransaction(deferred: false);
        _sql.Transaction = transaction;
        try
        {
            if (_sql.Scalar("SELECT 1 FROM journal WHERE op_id = $p0", Blob.Of(id.Value)) is not null)
            {
                transaction.Rollback();
                return new EconomicResult(EconomicStatus.DuplicateOperation, "operation " + id + " was already applied.");
            }

            EconomicResult result;
            try
            {
                result = operation.Apply(new LedgerTransaction(_sql, id, nowMs));
            }
            catch (OverflowException)
            {
                result = new EconomicResult(EconomicStatus.InvalidAmount, "the amounts overflow 128 bits.");
            }

            if (!result.IsApplied)
            {
                transaction.Rollback();
                return result;
            }

            _sql.Exec(
                "INSERT INTO journal(op_id, kind, at_ms, args) VALUES ($p0, $p1, $p2, $p3)",
                Blob.Of(id.Value),
                (long)operation.Kind,
                nowMs,
                OperationCodec.Encode(operation));
            transaction.Commit();
            return result;
        }
        catch
        {
            if (transaction.Connection is not null)
            {
                transaction.Rollback();
            }

            throw;
        }
        finally
        {
            _sql.Transaction = null;
        }
    }

    private static TokenAmount Sum(SqlCommands sql, string query)
    {
        var sum = TokenAmount.Zero;
        using var reader = sql.Query(query);
        while (reader.Read())
        {
            sum += Blob.ToAmount(reader.GetValue(0));
        }

        return sum;
    }

    private static string Dump(SqlCommands sql, string table, string orderBy)
    {
        var text = new StringBuilder();
        using var reader = sql.Query($"SELECT * FROM {table} ORDER BY {orderBy}");
        while (reader.Read())
        {
            for (int i = 0; i < reader.FieldCount; i++)
            {
                object value = reader.GetValue(i);
                text.Append(value switch
                {
                    byte[] bytes => Convert.ToHexString(bytes),
                    IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                    _ => value.ToString(),
                }).Append('|');
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
