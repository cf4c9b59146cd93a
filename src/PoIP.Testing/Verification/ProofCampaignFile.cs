using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PoIP.Core.Errors;

namespace PoIP.Testing.Verification;

/// <summary>Counts of one campaign configuration.</summary>
/// <param name="Configuration">The configuration's canonical name.</param>
/// <param name="Receipts">Honest receipts generated and verified.</param>
/// <param name="FalsePositives">Judged fraud.</param>
/// <param name="Inconclusive">Judged inconclusive.</param>
/// <param name="Replayed">Settled by the decoding replay.</param>
/// <param name="SlackUsed">Positions accepted through the sampling slack.</param>
public sealed record ProofCampaignTally(string Configuration, long Receipts, long FalsePositives, long Inconclusive, long Replayed, long SlackUsed)
{
    /// <summary>The Clopper–Pearson 95 % upper bound on this configuration's false-positive rate.</summary>
    public double UpperBound => ClopperPearson.UpperBound(FalsePositives, Receipts);
}

/// <summary>
/// A campaign's progress on disk, so that a campaign resumes where it stopped. Two lines:
/// <code>
/// {"format":"poip-proofs-campaign","version":1,"definition":"&lt;hex&gt;","configurations":[{"name":..,"receipts":..,"false_positives":..,"inconclusive":..,"replayed":..,"slack_used":..},..],"failures":[..]}
/// sha256 &lt;hex SHA-256 of the first line's bytes&gt;
/// </code>
/// Read strictly: at most <see cref="MaxLength"/> bytes (<see cref="DecodeErrorKind.Oversize"/>); a file
/// that ends before its checksum line is <see cref="DecodeErrorKind.Truncated"/>; a checksum that does not
/// match (an edited or damaged file) or any unexpected content is <see cref="DecodeErrorKind.Malformed"/>;
/// another format version, or a campaign of another definition (configurations, case generator,
/// commitment format, thresholds: <see cref="ProofCampaign.Definition"/>), is
/// <see cref="DecodeErrorKind.WrongVersion"/>; impossible counts are <see cref="DecodeErrorKind.InvalidField"/>.
/// The checksum catches accidents, not a forger (anyone can recompute it): the campaign is deterministic,
/// so a third party checks a claimed figure by rerunning it. Not thread-safe.
/// </summary>
public sealed class ProofCampaignFile
{
    /// <summary>The format version written and read.</summary>
    public const int Version = 1;

    /// <summary>Largest file read.</summary>
    public const int MaxLength = 4 << 20;

    /// <summary>Failure lines kept (the first ones).</summary>
    public const int MaxFailures = 200;

    private const string Format = "poip-proofs-campaign";
    private const string TypeName = "campaign file";
    private const int MaxConfigurations = 10_000;
    private const int MaxNameLength = 200;
    private const int MaxFailureLength = 2_000;

    private readonly ProofCampaignTally[] _tallies;
    private readonly List<string> _failures;

    private ProofCampaignFile(string definition, ProofCampaignTally[] tallies, List<string> failures)
    {
        Definition = definition;
        _tallies = tallies;
        _failures = failures;
    }

    /// <summary>The campaign definition the counts belong to (<see cref="ProofCampaign.Definition"/>).</summary>
    public string Definition { get; }

    /// <summary>One tally per configuration, in the definition's order.</summary>
    public IReadOnlyList<ProofCampaignTally> Tallies => _tallies;

    /// <summary>The first <see cref="MaxFailures"/> receipts not judged valid.</summary>
    public IReadOnlyList<string> Failures => _failures;

    /// <summary>Honest receipts over all configurations.</summary>
    public long Receipts => _tallies.Sum(t => t.Receipts);

    /// <summary>False fraud verdicts over all configurations.</summary>
    public long FalsePositives => _tallies.Sum(t => t.FalsePositives);

    /// <summary>Inconclusive verdicts over all configurations.</summary>
    public long Inconclusive => _tallies.Sum(t => t.Inconclusive);

    /// <summary>The Clopper–Pearson 95 % upper bound on the false-positive rate over all configurations.</summary>
    public double UpperBound => ClopperPearson.UpperBound(FalsePositives, Receipts);

    /// <summary>A new campaign with no receipts.</summary>
    /// <exception cref="ArgumentException">Duplicate or oversize names, or a definition that is not 64 hex digits.</exception>
    public static ProofCampaignFile Create(string definition, IEnumerable<string> configurations)
    {
        ArgumentNullException.ThrowIfNull(configurations);
        var tallies = configurations.Select(name => new ProofCampaignTally(name, 0, 0, 0, 0, 0)).ToArray();
        string? problem = Check(definition, tallies);
        return problem is null ? new ProofCampaignFile(definition, tallies, []) : throw new ArgumentException(problem, nameof(configurations));
    }

    /// <summary>Adds a batch's counts to configuration <paramref name="configuration"/>.</summary>
    public void Add(int configuration, ProofCampaignBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(configuration);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(configuration, _tallies.Length);
        var t = _tallies[configuration];
        _tallies[configuration] = t with
        {
            Receipts = t.Receipts + batch.Receipts, FalsePositives = t.FalsePositives + batch.FalsePositives, Inconclusive = t.Inconclusive + batch.Inconclusive,
            Replayed = t.Replayed + batch.Replayed, SlackUsed = t.SlackUsed + batch.SlackUsed,
        };
        foreach (string failure in batch.Failures)
        {
            if (_failures.Count < MaxFailures)
            {
                _failures.Add(failure.Length <= MaxFailureLength ? failure : failure[..MaxFailureLength]);
            }
        }
    }

    /// <summary>The file's bytes.</summary>
    public byte[] Serialize()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            writer.WriteNumber("version", Version);
            writer.WriteString("definition", Definition);
            writer.WriteStartArray("configurations");
            foreach (var t in _tallies)
            {
                writer.WriteStartObject();
                writer.WriteString("name", t.Configuration);
                writer.WriteNumber("receipts", t.Receipts);
                writer.WriteNumber("false_positives", t.FalsePositives);
                writer.WriteNumber("inconclusive", t.Inconclusive);
                writer.WriteNumber("replayed", t.Replayed);
                writer.WriteNumber("slack_used", t.SlackUsed);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("failures");
            foreach (string failure in _failures)
            {
                writer.WriteStringValue(failure);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        byte[] body = stream.ToArray();
        byte[] trailer = Encoding.ASCII.GetBytes("\nsha256 " + Convert.ToHexStringLower(SHA256.HashData(body)) + "\n");
        return [.. body, .. trailer];
    }

    /// <summary>Writes the file atomically (a temporary file renamed over the old one).</summary>
    public async Task WriteAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string temporary = path + ".tmp";
        await File.WriteAllBytesAsync(temporary, Serialize(), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads and checks a file (at most <see cref="MaxLength"/> + 1 bytes are read).</summary>
    /// <exception cref="PoIPDecodeException">The file is oversize, truncated, edited, of another version or definition, or malformed.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static async Task<ProofCampaignFile> ReadAsync(string path, string? expectedDefinition, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            byte[] buffer = new byte[MaxLength + 1];
            int length = 0, read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            return Parse(buffer.AsSpan(0, length), expectedDefinition);
        }
    }

    /// <summary>Parses and checks a file's bytes; with <paramref name="expectedDefinition"/>, also that the campaign is that one.</summary>
    /// <exception cref="PoIPDecodeException">Oversize, truncated, edited, another version or definition, or malformed.</exception>
    public static ProofCampaignFile Parse(ReadOnlySpan<byte> bytes, string? expectedDefinition = null)
    {
        if (bytes.Length > MaxLength)
        {
            throw Error(DecodeErrorKind.Oversize, $"{bytes.Length} bytes exceed the {MaxLength}-byte limit.");
        }

        int newline = bytes.IndexOf((byte)'\n');
        if (newline < 0 || newline == bytes.Length - 1 || bytes[^1] != (byte)'\n')
        {
            throw Error(DecodeErrorKind.Truncated, "the file ends before its checksum line (an interrupted write or a cut copy).");
        }

        var body = bytes[..newline];
        var trailer = bytes[(newline + 1)..^1];
        if (trailer.IndexOf((byte)'\n') >= 0)
        {
            throw Error(DecodeErrorKind.Malformed, "more than two lines.");
        }

        const int TrailerLength = 7 + 64;
        if (!"sha256 "u8.StartsWith(trailer) && !trailer.StartsWith("sha256 "u8))
        {
            throw Error(DecodeErrorKind.Malformed, "the second line is not 'sha256 <hex>'.");
        }

        if (trailer.Length < TrailerLength)
        {
            throw Error(DecodeErrorKind.Truncated, "the checksum line is incomplete.");
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(body, digest);
        if (trailer.Length != TrailerLength || !Encoding.ASCII.GetBytes(Convert.ToHexStringLower(digest)).AsSpan().SequenceEqual(trailer[7..]))
        {
            throw Error(DecodeErrorKind.Malformed, "its checksum does not match its content: the file was edited or damaged.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException)
        {
            throw Error(DecodeErrorKind.Malformed, "the first line is not a JSON object.");
        }

        using (document)
        {
            return FromJson(document.RootElement, expectedDefinition);
        }
    }

    private static ProofCampaignFile FromJson(JsonElement root, string? expectedDefinition)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Error(DecodeErrorKind.Malformed, "the first line is not a JSON object.");
        }

        var seen = new HashSet<string>();
        string? format = null, definition = null;
        int? version = null;
        ProofCampaignTally[]? tallies = null;
        List<string>? failures = null;
        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw Error(DecodeErrorKind.Malformed, $"property '{property.Name}' appears twice.");
            }

            var value = property.Value;
            switch (property.Name)
            {
                case "format":
                    format = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                    break;
                case "version":
                    version = value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int v) ? v : throw Error(DecodeErrorKind.InvalidField, "'version' is not an integer.");
                    break;
                case "definition":
                    definition = value.ValueKind == JsonValueKind.String ? value.GetString() : throw Error(DecodeErrorKind.InvalidField, "'definition' is not a string.");
                    break;
                case "configurations":
                    tallies = ReadTallies(value);
                    break;
                case "failures":
                    failures = ReadFailures(value);
                    break;
                default:
                    throw Error(DecodeErrorKind.Malformed, $"unknown property '{property.Name}'.");
            }
        }

        if (format != Format)
        {
            throw Error(DecodeErrorKind.Malformed, $"not a campaign file ('format' is not '{Format}').");
        }

        if (version is null || definition is null || tallies is null || failures is null)
        {
            throw Error(DecodeErrorKind.Malformed, "a required property is missing (version, definition, configurations, failures).");
        }

        if (version != Version)
        {
            throw Error(DecodeErrorKind.WrongVersion, $"version {version}; this program reads version {Version}.");
        }

        string? problem = Check(definition, tallies);
        if (problem is not null)
        {
            throw Error(DecodeErrorKind.InvalidField, problem);
        }

        if (expectedDefinition is not null && definition != expectedDefinition)
        {
            throw Error(DecodeErrorKind.WrongVersion, "it belongs to another campaign definition (other configurations, case generator, commitment format or thresholds than this program's); start a new file.");
        }

        return new ProofCampaignFile(definition, tallies, failures);
    }

    private static ProofCampaignTally[] ReadTallies(JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() > MaxConfigurations)
        {
            throw Error(DecodeErrorKind.InvalidField, $"'configurations' is not an array of at most {MaxConfigurations}.");
        }

        var tallies = new List<ProofCampaignTally>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Error(DecodeErrorKind.InvalidField, "a configuration is not an object.");
            }

            var fields = new Dictionary<string, JsonElement>();
            foreach (var property in item.EnumerateObject())
            {
                if (property.Name is not ("name" or "receipts" or "false_positives" or "inconclusive" or "replayed" or "slack_used") || !fields.TryAdd(property.Name, property.Value))
                {
                    throw Error(DecodeErrorKind.Malformed, $"unexpected or repeated configuration property '{property.Name}'.");
                }
            }

            long Count(string name) => fields.TryGetValue(name, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long n) && n >= 0
                ? n
                : throw Error(DecodeErrorKind.InvalidField, $"configuration count '{name}' is missing or not a non-negative integer.");
            string name = fields.TryGetValue("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw Error(DecodeErrorKind.InvalidField, "a configuration has no name.");
            tallies.Add(new ProofCampaignTally(name, Count("receipts"), Count("false_positives"), Count("inconclusive"), Count("replayed"), Count("slack_used")));
        }

        return [.. tallies];
    }

    private static List<string> ReadFailures(JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() > MaxFailures)
        {
            throw Error(DecodeErrorKind.InvalidField, $"'failures' is not an array of at most {MaxFailures}.");
        }

        var failures = new List<string>();
        foreach (var item in array.EnumerateArray())
        {
            string text = item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Error(DecodeErrorKind.InvalidField, "a failure is not a string.");
            failures.Add(text.Length <= MaxFailureLength ? text : throw Error(DecodeErrorKind.InvalidField, "a failure line is too long."));
        }

        return failures;
    }

    private static string? Check(string definition, ProofCampaignTally[] tallies)
    {
        if (definition is not { Length: 64 } || !definition.All(char.IsAsciiHexDigitLower))
        {
            return "'definition' is not 64 lower-case hex digits.";
        }

        if (tallies.Length is 0 or > MaxConfigurations)
        {
            return $"a campaign has 1 to {MaxConfigurations} configurations.";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tallies)
        {
            if (t.Configuration.Length is 0 or > MaxNameLength || !names.Add(t.Configuration))
            {
                return $"configuration name '{t.Configuration}' is empty, longer than {MaxNameLength} characters or repeated.";
            }

            if (t.FalsePositives + t.Inconclusive > t.Receipts || t.Replayed > t.Receipts || t.Receipts > long.MaxValue / 4)
            {
                return $"configuration '{t.Configuration}' has more verdicts than receipts.";
            }
        }

        return null;
    }

    private static PoIPDecodeException Error(DecodeErrorKind kind, string detail) => new(TypeName, kind, detail);
}
