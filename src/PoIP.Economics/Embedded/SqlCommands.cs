using Microsoft.Data.Sqlite;

namespace PoIP.Economics.Embedded;

/// <summary>Prepared commands on one connection, cached by SQL text, parameters named <c>$p0</c>, <c>$p1</c>, ...</summary>
internal sealed class SqlCommands : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _cache = new(StringComparer.Ordinal);

    public SqlCommands(SqliteConnection connection) => _connection = connection;

    /// <summary>The transaction new commands run in (null outside one).</summary>
    public SqliteTransaction? Transaction { get; set; }

    public int Exec(string sql, params object?[] args) => Command(sql, args).ExecuteNonQuery();

    public object? Scalar(string sql, params object?[] args)
    {
        object? value = Command(sql, args).ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public SqliteDataReader Query(string sql, params object?[] args) => Command(sql, args).ExecuteReader();

    public void Dispose()
    {
        foreach (var command in _cache.Values)
        {
            command.Dispose();
        }

        _cache.Clear();
    }

    private SqliteCommand Command(string sql, object?[] args)
    {
        if (!_cache.TryGetValue(sql, out var command))
        {
#pragma warning disable CA2100 // SQL text is a constant of this assembly; values always travel as parameters.
            command = new SqliteCommand(sql, _connection);
#pragma warning restore CA2100
            for (int i = 0; i < args.Length; i++)
            {
                command.Parameters.Add(new SqliteParameter("$p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), null));
            }

            _cache[sql] = command;
        }

        command.Transaction = Transaction;
        for (int i = 0; i < args.Length; i++)
        {
            command.Parameters[i].Value = args[i] ?? DBNull.Value;
        }

        return command;
    }
}
