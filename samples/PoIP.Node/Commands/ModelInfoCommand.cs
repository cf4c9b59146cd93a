using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Inference.Gguf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class ModelInfoSettings : CommandSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("A GGUF model file.")]
    public string Model { get; init; } = string.Empty;

    [CommandOption("--json")]
    [Description("Print one JSON object instead of a table.")]
    public bool Json { get; init; }

    [CommandOption("--no-cache")]
    [Description("Always re-hash the file (skip the path+size+mtime fingerprint cache in ~/.poip/model-ids.json).")]
    public bool NoCache { get; init; }

    public override ValidationResult Validate() =>
        File.Exists(Model) ? ValidationResult.Success() : ValidationResult.Error($"no such file: {Model}");
}

/// <summary><c>poip model info</c>: GGUF metadata summary and the ModelId (SHA-256 of the file).</summary>
internal sealed class ModelInfoCommand : AsyncCommand<ModelInfoSettings>
{
    private static readonly string[] Keys =
    [
        "general.architecture", "general.name", "general.file_type", "llama.context_length", "llama.embedding_length", "llama.block_count",
        "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count",
        "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon", "tokenizer.ggml.model", "tokenizer.ggml.bos_token_id",
        "tokenizer.ggml.eos_token_id",
    ];

    public override async Task<int> ExecuteAsync(CommandContext context, ModelInfoSettings settings, CancellationToken cancellationToken)
    {
        string path = Path.GetFullPath(settings.Model);
        var facts = new List<(string Name, object Value)>();
        try
        {
            using GgufFile file = GgufFile.Open(path);
            facts.Add(("file", path));
            facts.Add(("size_bytes", file.Length));
            facts.Add(("gguf_version", file.Version));
            foreach (string key in Keys)
            {
                if (file.Metadata.TryGetValue(key, out GgufMetadataValue? value))
                {
                    facts.Add((key, value.Value is float f ? f : value.Value is double d ? d : value.IsInteger ? value.AsInt64() : value.ToString()));
                }
            }

            facts.Add(("vocabulary_size", file.GetArray<string>("tokenizer.ggml.tokens")?.Length ?? 0));
            facts.Add(("tensor_count", file.Tensors.Count));
            facts.Add(("parameter_count", file.Tensors.Sum(t => t.ElementCount)));
            facts.Add(("tensor_types", string.Join(", ", file.Tensors.GroupBy(t => t.Type).OrderBy(g => g.Key).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key}:{g.Count()}")))));
        }
        catch (PoIPDecodeException ex)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return 2;
        }

        var cache = new ModelIdCache(ModelIdCache.DefaultPath);
        ModelId id = default;
        bool cached = !settings.NoCache && cache.TryGet(path, out id);
        if (cached)
        {
            // unchanged file: reuse the digest
        }
        else if (settings.Json)
        {
            id = await ModelId.FromFileAsync(path, null, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            long length = new FileInfo(path).Length;
            id = await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn())
                .StartAsync(async progress =>
                {
                    ProgressTask task = progress.AddTask("SHA-256", maxValue: Math.Max(1, length));
                    var report = new Progress<long>(bytes => task.Value = bytes);
                    ModelId digest = await ModelId.FromFileAsync(path, report, cancellationToken).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                    return digest;
                }).ConfigureAwait(false);
        }

        if (!cached && !settings.NoCache)
        {
            cache.Put(path, id);
        }

        facts.Add(("model_id", id.ToString()));
        facts.Add(("model_id_source", cached ? "cache" : "sha256"));
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(facts.ToDictionary(f => f.Name, f => f.Value)));
            return 0;
        }

        var table = new Table().Title("model").AddColumns("field", "value");
        foreach (var (name, value) in facts)
        {
            table.AddRow(name, Markup.Escape(Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
