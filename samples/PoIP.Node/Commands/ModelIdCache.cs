using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using PoIP.Core.Hashing;

namespace PoIP.Node.Commands;

/// <summary>
/// Remembers the ModelId (SHA-256) of model files so unchanged files are not re-hashed: the key is
/// an XxHash3 fingerprint of (full path, size, last-write time). A changed file gets a new key.
/// The cache is a small JSON file (at most 256 entries, 1 MiB); a damaged cache is ignored.
/// </summary>
internal sealed class ModelIdCache(string path)
{
    private const int MaxEntries = 256;
    private const long MaxBytes = 1 << 20;

    public static string DefaultPath => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".poip", "model-ids.json");

    public static string Fingerprint(string modelPath)
    {
        var info = new FileInfo(modelPath);
        string key = string.Create(CultureInfo.InvariantCulture, $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}");
        return Convert.ToHexStringLower(XxHash3.Hash(Encoding.UTF8.GetBytes(key)));
    }

    public bool TryGet(string modelPath, out ModelId id)
    {
        id = default;
        return Load().TryGetValue(Fingerprint(modelPath), out string? hex) && TryParse(hex, out id);
    }

    public void Put(string modelPath, ModelId id)
    {
        Dictionary<string, string> entries = Load();
        entries[Fingerprint(modelPath)] = id.ToString();
        while (entries.Count > MaxEntries)
        {
            entries.Remove(entries.Keys.First());
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, JsonSerializer.Serialize(entries));
        }
        catch (IOException)
        {
            // A cache that cannot be written only costs a re-hash next time.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static bool TryParse(string hex, out ModelId id)
    {
        try
        {
            id = ModelId.Parse(hex);
            return true;
        }
        catch (FormatException)
        {
            id = default;
            return false;
        }
        catch (ArgumentException)
        {
            id = default;
            return false;
        }
    }

    private Dictionary<string, string> Load()
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxBytes)
            {
                return [];
            }

            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return [];
        }
    }
}
