using System.Text;
using PoIP.Network.Kademlia;

namespace PoIP.Network.Tests.Kademlia;

/// <summary>Values "v&lt;number&gt;": valid when they start with 'v' and are at most 100 bytes; the higher number wins.</summary>
internal sealed class VersionNamespace(string name = "test") : IDhtRecordNamespace
{
    public string Name => name;

    public DhtRecordVerdict Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, DateTimeOffset now) =>
        value.Length is > 1 and <= 100 && value[0] == (byte)'v' && int.TryParse(Encoding.ASCII.GetString(value[1..]), out _)
            ? DhtRecordVerdict.Valid
            : DhtRecordVerdict.Invalid("not v<number>");

    public int SelectBest(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values)
    {
        int best = 0;
        for (int i = 1; i < values.Count; i++)
        {
            if (Number(values[i].Span) > Number(values[best].Span))
            {
                best = i;
            }
        }

        return best;
    }

    public byte[]? Merge(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored, ReadOnlySpan<byte> incoming) => null;

    private static int Number(ReadOnlySpan<byte> v) => int.Parse(Encoding.ASCII.GetString(v[1..]), System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Values are comma-separated sets of items; a put merges (union), so nothing is ever erased.</summary>
internal sealed class SetNamespace : IDhtRecordNamespace
{
    public string Name => "set";

    public DhtRecordVerdict Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, DateTimeOffset now) =>
        value.Length > 0 && !value.Contains((byte)' ') ? DhtRecordVerdict.Valid : DhtRecordVerdict.Invalid("empty or has a space");

    public int SelectBest(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values) => 0;

    public byte[]? Merge(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored, ReadOnlySpan<byte> incoming) =>
        Encoding.ASCII.GetBytes(string.Join(',', Items(stored).Union(Items(incoming)).Order(StringComparer.Ordinal)));

    public static string[] Items(ReadOnlySpan<byte> value) => Encoding.ASCII.GetString(value).Split(',', StringSplitOptions.RemoveEmptyEntries);
}
