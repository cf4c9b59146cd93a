using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
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
    /// <summary>Deepest JSON nesting accepted (the object and its token array need 2).</summary>
    internal const int MaxDepth = 4;

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
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(
        new ReceiptFileDocument
        {
            Format = FormatName,
            Version = CurrentVersion,
            ModelId = Receipt.Message.ModelId.ToString(),
            NodeId = Receipt.Message.NodeId.ToString(),
            Request = Request.Envelope.Encoded.ToArray(),
            Prompt = Prompt,
            Receipt = Receipt.Envelope.Encoded.ToArray(),
            OutputTokens = [.. OutputTokens],
        },
        ReceiptFileJsonContext.Default.ReceiptFileDocument);

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
            throw Invalid(DecodeErrorKind.Oversize, $"{utf8Json.Length} bytes exceeds the {MaxLength}-byte limit.");
        }

        CheckWellFormedObject(utf8Json);

        var header = Deserialize(utf8Json, ReceiptFileJsonContext.Default.ReceiptFileHeader);
        if (header.Format != FormatName)
        {
            throw Invalid(DecodeErrorKind.Malformed, $"format must be \"{FormatName}\".");
        }

        if (header.Version is not { } version)
        {
            throw Invalid(DecodeErrorKind.InvalidField, "version is missing.");
        }

        if (version != CurrentVersion)
        {
            throw Invalid(DecodeErrorKind.WrongVersion, $"version {version}; this code reads version {CurrentVersion}.");
        }

        return Assemble(Deserialize(utf8Json, ReceiptFileJsonContext.Default.ReceiptFileDocument));
    }

    private static ReceiptFile Assemble(ReceiptFileDocument d)
    {
        string? missing = d.ModelId is null ? "model_id"
            : d.NodeId is null ? "node_id"
            : d.Request is null ? "request"
            : d.Prompt is null ? "prompt"
            : d.Receipt is null ? "receipt"
            : d.OutputTokens is null ? "output_tokens"
            : null;
        if (missing is not null)
        {
            throw Invalid(DecodeErrorKind.InvalidField, $"{missing} is missing.");
        }

        CheckLength("request", d.Request!.Length, InferenceRequest.EnvelopeType.MaxEncodedLength);
        CheckLength("receipt", d.Receipt!.Length, InferenceReceipt.EnvelopeType.MaxEncodedLength);
        CheckLength("prompt", Encoding.UTF8.GetByteCount(d.Prompt!), InferenceRequest.MaxInputLength);
        CheckLength("output_tokens", d.OutputTokens!.Length, InferenceRequest.MaxOutputTokens);
        int negative = Array.FindIndex(d.OutputTokens, token => token < 0);
        if (negative >= 0)
        {
            throw Invalid(DecodeErrorKind.InvalidField, $"output_tokens[{negative}] is not a token id.");
        }

        var request = SignedMessage.Open<InferenceRequest>(d.Request);
        if (request.Signer != request.Message.ClientId)
        {
            throw new SignatureException(InferenceRequest.EnvelopeType.Domain, $"the request is signed by {request.Signer}, not by the client it names ({request.Message.ClientId}).");
        }

        var receipt = SignedMessage.Open<InferenceReceipt>(d.Receipt);
        if (receipt.Signer != receipt.Message.NodeId)
        {
            throw new SignatureException(InferenceReceipt.EnvelopeType.Domain, $"the receipt is signed by {receipt.Signer}, not by the node it names ({receipt.Message.NodeId}).");
        }

        if (d.ModelId != receipt.Message.ModelId.ToString() || d.NodeId != receipt.Message.NodeId.ToString())
        {
            throw Invalid(DecodeErrorKind.InvalidField, "model_id or node_id differs from the signed receipt's.");
        }

        return new ReceiptFile(request, d.Prompt!, receipt, d.OutputTokens);
    }

    private static void CheckLength(string field, long length, long max)
    {
        if (length > max)
        {
            throw Invalid(DecodeErrorKind.InvalidField, $"{field} is longer than its limit of {max}.");
        }
    }

    /// <summary>Refuses bytes that are not exactly one well-formed JSON object: truncated or malformed, before any field is read.</summary>
    private static void CheckWellFormedObject(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = MaxDepth });
        try
        {
            if (!reader.Read())
            {
                throw Invalid(DecodeErrorKind.Truncated, "the file is empty.");
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid(DecodeErrorKind.Malformed, "the file is not a JSON object.");
            }

            reader.Skip();
            if (reader.Read())
            {
                throw Invalid(DecodeErrorKind.Malformed, "content follows the JSON object.");
            }
        }
        catch (JsonException e)
        {
            throw IsPrefixOfJson(utf8Json)
                ? new PoIPDecodeException(TypeName, DecodeErrorKind.Truncated, "the file ends before its JSON object does.", e)
                : new PoIPDecodeException(TypeName, DecodeErrorKind.Malformed, $"not well-formed JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}).", e);
        }
    }

    /// <summary>Deserializes well-formed JSON; a property that is unknown, repeated or of the wrong type is an error naming it.</summary>
    private static T Deserialize<T>(ReadOnlySpan<byte> utf8Json, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(utf8Json, typeInfo) ?? throw Invalid(DecodeErrorKind.Malformed, "the file is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.InvalidField, FieldProblem(e.Path), e);
        }
    }

    /// <summary>What is wrong at a JSON path such as <c>$.output_tokens[3]</c>, in words that name the property.</summary>
    private static string FieldProblem(string? path)
    {
        // System.Text.Json writes $.name, or $['name'] for a name with characters a dotted path cannot hold.
        string field = path is null || path.Length <= 2 ? string.Empty
            : path.StartsWith("$['", StringComparison.Ordinal) ? path[3..].Split("']")[0]
            : path[2..];
        int bracket = field.IndexOf('[', StringComparison.Ordinal);
        string name = bracket < 0 ? field : field[..bracket];
        return name switch
        {
            "" => "the file is not a receipt object.",
            "format" or "model_id" or "node_id" => $"{name} must appear once, as a string.",
            "version" => "version must appear once, as an integer.",
            "prompt" => "prompt must appear once, as valid UTF-8 text.",
            "request" or "receipt" => $"{name} must appear once, as a base64 string.",
            "output_tokens" when bracket >= 0 => $"{field} is not a token id.",
            "output_tokens" => "output_tokens must appear once, as an array of token ids.",
            _ => $"unknown property '{(name.Length <= 40 ? name : name[..40] + "...")}'.",
        };
    }

    /// <summary>True when the bytes are a well-formed beginning of JSON that only lacks its end.</summary>
    private static bool IsPrefixOfJson(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, isFinalBlock: false, new JsonReaderState(new JsonReaderOptions { MaxDepth = MaxDepth }));
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 0 && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
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

    private static PoIPDecodeException Invalid(DecodeErrorKind kind, string detail) => new(TypeName, kind, detail);
}
