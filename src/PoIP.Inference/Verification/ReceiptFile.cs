using System.Buffers;
using System.Text;
using System.Text.Json;
using PoIP.Core.Errors;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;

namespace PoIP.Inference.Verification;

/// <summary>
/// One finished inference transaction in a file, with everything a third party needs to verify it
/// (<c>poip generate --receipt</c> writes it, <c>poip verify</c> reads it; docs/proofs.md): the
/// client's signed request, the prompt, the node's signed receipt (with its activation commitment)
/// and the output token ids.
/// </summary>
/// <remarks>
/// The format is UTF-8 JSON, one object, properties in any order, no others allowed:
/// <c>format</c> (<see cref="FormatName"/>), <c>version</c> (<see cref="CurrentVersion"/>),
/// <c>model_id</c> and <c>node_id</c> (readable copies of the receipt's, checked equal to it),
/// <c>request</c> and <c>receipt</c> (base64 of the signed envelopes, libp2p RFC 0002, exactly as
/// the protocol carries them), <c>prompt</c> (text; its UTF-8 bytes are what the request's input
/// root binds) and <c>output_tokens</c> (array of token ids). Reading checks size, structure,
/// version and both signatures before returning; whether the receipt is honest is the verifier's
/// question (<see cref="ToVerificationCase"/>).
/// </remarks>
public sealed class ReceiptFile
{
    /// <summary>The value of the <c>format</c> property.</summary>
    public const string FormatName = "poip-receipt";

    /// <summary>The format version this code writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Largest file accepted, in bytes (8 MiB: a 1 MiB prompt escaped, a 256 KiB receipt and 65,536 token ids fit).</summary>
    public const int MaxLength = 8 * 1024 * 1024;

    private const string TypeName = nameof(ReceiptFile);
    private const int MaxDepth = 4;

    /// <summary>Bundles a signed request, its prompt, the signed receipt and the output tokens.</summary>
    /// <exception cref="ArgumentException">The prompt is longer than a request allows or there are too many tokens.</exception>
    public ReceiptFile(SignedMessage<InferenceRequest> request, string prompt, SignedMessage<InferenceReceipt> receipt, IReadOnlyList<int> outputTokens)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(outputTokens);
        if (Encoding.UTF8.GetByteCount(prompt) > InferenceRequest.MaxInputLength)
        {
            throw new ArgumentException($"the prompt is longer than {InferenceRequest.MaxInputLength} bytes.", nameof(prompt));
        }

        if (outputTokens.Count > InferenceRequest.MaxOutputTokens)
        {
            throw new ArgumentException($"more than {InferenceRequest.MaxOutputTokens} output tokens.", nameof(outputTokens));
        }

        Request = request;
        Prompt = prompt;
        Receipt = receipt;
        OutputTokens = [.. outputTokens];
    }

    /// <summary>The client's signed request (signature verified).</summary>
    public SignedMessage<InferenceRequest> Request { get; }

    /// <summary>The prompt text.</summary>
    public string Prompt { get; }

    /// <summary>The node's signed receipt (signature verified).</summary>
    public SignedMessage<InferenceReceipt> Receipt { get; }

    /// <summary>The output token ids the node returned.</summary>
    public IReadOnlyList<int> OutputTokens { get; }

    /// <summary>What a verifier judges: request, receipt, prompt bytes and output tokens.</summary>
    public VerificationCase ToVerificationCase() => new(Request, Receipt, Encoding.UTF8.GetBytes(Prompt), OutputTokens);

    /// <summary>Writes the file's bytes (indented UTF-8 JSON).</summary>
    public byte[] ToUtf8Json()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", FormatName);
            json.WriteNumber("version", CurrentVersion);
            json.WriteString("model_id", Receipt.Message.ModelId.ToString());
            json.WriteString("node_id", Receipt.Message.NodeId.ToString());
            json.WriteBase64String("request", Request.Envelope.Encoded.Span);
            json.WriteString("prompt", Prompt);
            json.WriteBase64String("receipt", Receipt.Envelope.Encoded.Span);
            json.WriteStartArray("output_tokens");
            foreach (int token in OutputTokens)
            {
                json.WriteNumberValue(token);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the file to <paramref name="path"/> (replacing it).</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public Task WriteAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return File.WriteAllBytesAsync(path, ToUtf8Json(), cancellationToken);
    }

    /// <summary>Reads a file written by <see cref="WriteAsync"/>, reading at most <see cref="MaxLength"/> + 1 bytes.</summary>
    /// <exception cref="PoIPDecodeException">The file is oversize, truncated, of another version or malformed.</exception>
    /// <exception cref="SignatureException">The request or receipt signature does not verify, or a signer is not the party the message names.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static async Task<ReceiptFile> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            byte[] buffer = new byte[(stream.CanSeek ? (int)Math.Min(stream.Length, MaxLength) : MaxLength) + 1];
            int filled = 0;
            while (filled < buffer.Length)
            {
                int read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                filled += read;
            }

            return Parse(buffer.AsSpan(0, filled));
        }
    }

    /// <summary>Parses a file's bytes: size, JSON structure, format and version, fields, then both signatures.</summary>
    /// <exception cref="PoIPDecodeException">The bytes are oversize, truncated, of another version or malformed.</exception>
    /// <exception cref="SignatureException">The request or receipt signature does not verify, or a signer is not the party the message names.</exception>
    public static ReceiptFile Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxLength)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Oversize, $"{utf8Json.Length} bytes exceeds the {MaxLength}-byte limit.");
        }

        Fields fields;
        try
        {
            fields = ReadFields(utf8Json);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString on invalid UTF-8 or a lone surrogate escape.
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Malformed, "a string is not valid UTF-8 text: " + e.Message, e);
        }
        catch (JsonException e)
        {
            throw IsPrefixOfJson(utf8Json)
                ? new PoIPDecodeException(TypeName, DecodeErrorKind.Truncated, "the file ends before its JSON object does.", e)
                : new PoIPDecodeException(TypeName, DecodeErrorKind.Malformed, "not well-formed JSON: " + e.Message, e);
        }

        return Assemble(fields);
    }

    private static ReceiptFile Assemble(Fields f)
    {
        if (f.Format != FormatName)
        {
            throw Invalid(DecodeErrorKind.Malformed, $"format must be \"{FormatName}\".");
        }

        if (f.Version is not { } version)
        {
            throw Invalid(DecodeErrorKind.InvalidField, "version is missing or not an integer.");
        }

        if (version != CurrentVersion)
        {
            throw Invalid(DecodeErrorKind.WrongVersion, $"version {version}; this code reads version {CurrentVersion}.");
        }

        if (f.Problem is not null)
        {
            throw Invalid(DecodeErrorKind.InvalidField, f.Problem);
        }

        if (f.Request is null || f.Receipt is null || f.Prompt is null || f.Tokens is null || f.ModelId is null || f.NodeId is null)
        {
            throw Invalid(DecodeErrorKind.InvalidField, "one of request, receipt, prompt, output_tokens, model_id, node_id is missing.");
        }

        var request = SignedMessage.Open<InferenceRequest>(f.Request);
        if (request.Signer != request.Message.ClientId)
        {
            throw new SignatureException(InferenceRequest.EnvelopeType.Domain, $"the request is signed by {request.Signer}, not by the client it names ({request.Message.ClientId}).");
        }

        var receipt = SignedMessage.Open<InferenceReceipt>(f.Receipt);
        if (receipt.Signer != receipt.Message.NodeId)
        {
            throw new SignatureException(InferenceReceipt.EnvelopeType.Domain, $"the receipt is signed by {receipt.Signer}, not by the node it names ({receipt.Message.NodeId}).");
        }

        if (f.ModelId != receipt.Message.ModelId.ToString() || f.NodeId != receipt.Message.NodeId.ToString())
        {
            throw Invalid(DecodeErrorKind.InvalidField, "model_id or node_id differs from the signed receipt's.");
        }

        return new ReceiptFile(request, f.Prompt, receipt, f.Tokens);
    }

    private static Fields ReadFields(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        if (!reader.Read())
        {
            throw Invalid(DecodeErrorKind.Truncated, "the file is empty.");
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid(DecodeErrorKind.Malformed, "the file is not a JSON object.");
        }

        var f = new Fields();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            if (!seen.Add(name))
            {
                f.Problem ??= $"property '{Shorten(name)}' appears twice.";
                reader.Skip();
                continue;
            }

            switch (name)
            {
                case "format":
                    f.Format = String(ref reader, f, name, 64);
                    break;
                case "version":
                    f.Version = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int v) ? v : null;
                    reader.Skip();
                    break;
                case "model_id":
                    f.ModelId = String(ref reader, f, name, 128);
                    break;
                case "node_id":
                    f.NodeId = String(ref reader, f, name, 128);
                    break;
                case "prompt":
                    f.Prompt = String(ref reader, f, name, (int)InferenceRequest.MaxInputLength);
                    break;
                case "request":
                    f.Request = Base64(ref reader, f, name, InferenceRequest.EnvelopeType.MaxEncodedLength);
                    break;
                case "receipt":
                    f.Receipt = Base64(ref reader, f, name, InferenceReceipt.EnvelopeType.MaxEncodedLength);
                    break;
                case "output_tokens":
                    f.Tokens = Tokens(ref reader, f);
                    break;
                default:
                    f.Problem ??= $"unknown property '{Shorten(name)}'.";
                    reader.Skip();
                    break;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            throw new JsonException("the object does not end.");
        }

        if (reader.Read())
        {
            throw Invalid(DecodeErrorKind.Malformed, "content follows the JSON object.");
        }

        return f;
    }

    private static string? String(ref Utf8JsonReader reader, Fields f, string name, int maxChars)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            f.Problem ??= $"{name} must be a string.";
            reader.Skip();
            return null;
        }

        if (reader.ValueSpan.Length > maxChars * 6L)
        {
            f.Problem ??= $"{name} is too long.";
            return null;
        }

        string value = reader.GetString()!;
        if (value.Length > maxChars || Encoding.UTF8.GetByteCount(value) > maxChars)
        {
            f.Problem ??= $"{name} is too long.";
            return null;
        }

        return value;
    }

    private static byte[]? Base64(ref Utf8JsonReader reader, Fields f, string name, int maxBytes)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            f.Problem ??= $"{name} must be a base64 string.";
            reader.Skip();
            return null;
        }

        if (reader.ValueSpan.Length > ((maxBytes + 2) / 3 * 4) + 16)
        {
            f.Problem ??= $"{name} is longer than the {maxBytes}-byte envelope limit.";
            return null;
        }

        if (!reader.TryGetBytesFromBase64(out byte[]? bytes))
        {
            f.Problem ??= $"{name} is not valid base64.";
            return null;
        }

        return bytes;
    }

    private static int[]? Tokens(ref Utf8JsonReader reader, Fields f)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            f.Problem ??= "output_tokens must be an array.";
            reader.Skip();
            return null;
        }

        var tokens = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int token) || token < 0)
            {
                f.Problem ??= $"output_tokens[{tokens.Count}] is not a token id.";
                reader.Skip();
                continue;
            }

            if (tokens.Count == InferenceRequest.MaxOutputTokens)
            {
                f.Problem ??= $"more than {InferenceRequest.MaxOutputTokens} output tokens.";
                continue;
            }

            tokens.Add(token);
        }

        return [.. tokens];
    }

    /// <summary>True when the bytes are a well-formed beginning of JSON that only lacks its end.</summary>
    private static bool IsPrefixOfJson(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, isFinalBlock: false, new JsonReaderState(new JsonReaderOptions { MaxDepth = MaxDepth }));
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.EndObject)
                {
                    return false;
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Shorten(string name) => name.Length <= 40 ? name : name[..40] + "...";

    private static PoIPDecodeException Invalid(DecodeErrorKind kind, string detail) => new(TypeName, kind, detail);

    private sealed class Fields
    {
        public string? Format { get; set; }

        public int? Version { get; set; }

        public string? ModelId { get; set; }

        public string? NodeId { get; set; }

        public string? Prompt { get; set; }

        public byte[]? Request { get; set; }

        public byte[]? Receipt { get; set; }

        public int[]? Tokens { get; set; }

        public string? Problem { get; set; }
    }
}
