using Microsoft.Data.Sqlite;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;

namespace PoIP.Network.Kademlia;

/// <summary>
/// The record store's durable copy in one SQLite file (WAL): value and provider records, written through
/// on every change and read back at start. Callers serialise access (the store's lock).
/// </summary>
internal sealed class SqliteKadPersistence : IDisposable
{
    private readonly SqliteConnection _connection;

    public SqliteKadPersistence(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
        _connection = new SqliteConnection(builder.ToString());
        _connection.Open();
        Execute("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS kad_values (key BLOB PRIMARY KEY, value BLOB NOT NULL, sender BLOB NOT NULL, received INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS kad_providers (key BLOB NOT NULL, peer BLOB NOT NULL, addrs BLOB NOT NULL, received INTEGER NOT NULL, PRIMARY KEY (key, peer));
            """);
    }

    public IEnumerable<StoredValue> LoadValues()
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT key, value, sender, received FROM kad_values";
        using var r = cmd.ExecuteReader();
        var list = new List<StoredValue>();
        while (r.Read())
        {
            if (PeerId.TryFromBytes((byte[])r[2], out var from))
            {
                list.Add(new StoredValue((byte[])r[0], (byte[])r[1], from, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))));
            }
        }

        return list;
    }

    public IEnumerable<StoredProvider> LoadProviders()
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT key, peer, addrs, received FROM kad_providers";
        using var r = cmd.ExecuteReader();
        var list = new List<StoredProvider>();
        while (r.Read())
        {
            if (PeerId.TryFromBytes((byte[])r[1], out var peer))
            {
                list.Add(new StoredProvider((byte[])r[0], peer, DecodeAddresses((byte[])r[2]), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))));
            }
        }

        return list;
    }

    public void SaveValue(StoredValue v) => Execute(
        "INSERT INTO kad_values (key, value, sender, received) VALUES ($k, $v, $s, $t) ON CONFLICT(key) DO UPDATE SET value = $v, sender = $s, received = $t",
        ("$k", v.Key), ("$v", v.Value), ("$s", v.From.ToArray()), ("$t", v.Received.ToUnixTimeMilliseconds()));

    public void DeleteValue(byte[] key) => Execute("DELETE FROM kad_values WHERE key = $k", ("$k", key));

    public void SaveProvider(StoredProvider p) => Execute(
        "INSERT INTO kad_providers (key, peer, addrs, received) VALUES ($k, $p, $a, $t) ON CONFLICT(key, peer) DO UPDATE SET addrs = $a, received = $t",
        ("$k", p.Key), ("$p", p.Provider.ToArray()), ("$a", EncodeAddresses(p.Addresses)), ("$t", p.Received.ToUnixTimeMilliseconds()));

    public void DeleteProvider(byte[] key, PeerId peer) =>
        Execute("DELETE FROM kad_providers WHERE key = $k AND peer = $p", ("$k", key), ("$p", peer.ToArray()));

    public void Dispose() => _connection.Dispose();

    private void Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }

        cmd.ExecuteNonQuery();
    }

    private static byte[] EncodeAddresses(IReadOnlyList<Multiaddr> addresses)
    {
        using var ms = new MemoryStream();
        foreach (var a in addresses)
        {
            byte[] b = a.ToBytes();
            ms.WriteByte((byte)(b.Length >> 8));
            ms.WriteByte((byte)b.Length);
            ms.Write(b);
        }

        return ms.ToArray();
    }

    private static List<Multiaddr> DecodeAddresses(byte[] data)
    {
        var list = new List<Multiaddr>();
        int pos = 0;
        while (pos + 2 <= data.Length)
        {
            int n = (data[pos] << 8) | data[pos + 1];
            pos += 2;
            if (pos + n > data.Length)
            {
                break;
            }

            if (Multiaddr.TryFromBytes(data.AsSpan(pos, n), out var ma))
            {
                list.Add(ma!);
            }

            pos += n;
        }

        return list;
    }
}
