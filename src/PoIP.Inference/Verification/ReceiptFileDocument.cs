using System.Text.Json.Serialization;

namespace PoIP.Inference.Verification;

/// <summary>The JSON shape of a <see cref="ReceiptFile"/>, properties in the order they are written.</summary>
internal sealed class ReceiptFileDocument
{
    [JsonPropertyName("format")]
    public string? Format { get; set; }

    [JsonPropertyName("version")]
    public int? Version { get; set; }

    [JsonPropertyName("model_id")]
    public string? ModelId { get; set; }

    [JsonPropertyName("node_id")]
    public string? NodeId { get; set; }

    [JsonPropertyName("request")]
    public byte[]? Request { get; set; }

    [JsonPropertyName("prompt")]
    public string? Prompt { get; set; }

    [JsonPropertyName("receipt")]
    public byte[]? Receipt { get; set; }

    [JsonPropertyName("output_tokens")]
    public int[]? OutputTokens { get; set; }
}

/// <summary>
/// Only <c>format</c> and <c>version</c>, read first so that a file of another version is named as such
/// before its (possibly different) properties are judged.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
internal sealed class ReceiptFileHeader
{
    [JsonPropertyName("format")]
    public string? Format { get; set; }

    [JsonPropertyName("version")]
    public int? Version { get; set; }
}

/// <summary>
/// Source-generated System.Text.Json metadata for receipt files: unknown properties and duplicate
/// properties are refused, nesting is limited to <see cref="ReceiptFile.MaxDepth"/>, output is indented.
/// </summary>
[JsonSourceGenerationOptions(
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    MaxDepth = ReceiptFile.MaxDepth,
    WriteIndented = true,
    GenerationMode = JsonSourceGenerationMode.Default)]
[JsonSerializable(typeof(ReceiptFileDocument))]
[JsonSerializable(typeof(ReceiptFileHeader))]
internal sealed partial class ReceiptFileJsonContext : JsonSerializerContext;
