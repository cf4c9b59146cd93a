using System.Text.Json;
using System.Text.Json.Serialization;

namespace PoIP.Node.Commands;

/// <summary>
/// The config file of <c>poip node run</c>, <c>validator run</c> and <c>client ask</c> (JSON,
/// default <c>./poip.json</c> when present; flags override it). Relative paths are resolved against
/// the file's folder. At most 1 MiB.
/// </summary>
internal sealed record RoleConfig
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The shared SQLite ledger file.</summary>
    public string? Ledger { get; init; }

    /// <summary>A chain's JSON-RPC URL (instead of <see cref="Ledger"/>).</summary>
    public string? Chain { get; init; }

    /// <summary>With <see cref="Chain"/>: the deployment file.</summary>
    public string? Deployment { get; init; }

    /// <summary>With <see cref="Chain"/>: the role's chain key file.</summary>
    public string? ChainKey { get; init; }

    /// <summary>The GGUF model (nodes and validators serve it; clients ask for it).</summary>
    public string? Model { get; init; }

    public RoleSection Node { get; init; } = new();

    public RoleSection Validator { get; init; } = new();

    public RoleSection Client { get; init; } = new();

    /// <summary>The folder relative paths are resolved against.</summary>
    [JsonIgnore]
    public string BaseDirectory { get; init; } = Directory.GetCurrentDirectory();

    public static RoleConfig Load(string? path)
    {
        string? file = path ?? (File.Exists("poip.json") ? "poip.json" : null);
        if (file is null)
        {
            return new RoleConfig();
        }

        var info = new FileInfo(file);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"config file '{file}' not found.", file);
        }

        if (info.Length > 1 << 20)
        {
            throw new InvalidDataException($"config file '{file}' is larger than 1 MiB.");
        }

        try
        {
            var config = JsonSerializer.Deserialize<RoleConfig>(File.ReadAllText(file), Options) ?? new RoleConfig();
            return config with { BaseDirectory = info.DirectoryName! };
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"config file '{file}': {ex.Message}", ex);
        }
    }

    /// <summary>A path from the command line (relative to the current folder) wins over one from the file (relative to the file).</summary>
    public string? PathOf(string? flag, string? fromFile) =>
        flag is not null ? Path.GetFullPath(flag) : fromFile is null ? null : Path.GetFullPath(Path.Combine(BaseDirectory, fromFile));
}

/// <summary>One role's section of the config file (each role reads the fields it uses).</summary>
internal sealed record RoleSection
{
    public string? Key { get; init; }

    public IReadOnlyList<string> Listen { get; init; } = [];

    public IReadOnlyList<string> Peers { get; init; } = [];

    public IReadOnlyList<string> Validators { get; init; } = [];

    public string? PricePerToken { get; init; }

    public int? MaxTokens { get; init; }

    public int? Threads { get; init; }

    public double? AuditP { get; init; }

    public string? KnownAnswer { get; init; }

    public string? KnownAnswerModel { get; init; }

    public string? Stake { get; init; }
}
