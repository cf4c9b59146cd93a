using System.Buffers;
using System.Text.Json;
using PoIP.Gateway.Requests;

namespace PoIP.Gateway.Responses;

/// <summary>
/// Writes OpenAI's response objects (chat.completion, chat.completion.chunk, text_completion, error)
/// as UTF-8 JSON, with the top-level <c>poip</c> object where given.
/// </summary>
internal static class CompletionJson
{
    /// <summary>Options of the writers on the request path: no indentation, no structural validation (the code writes fixed shapes).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText ObjectName = JsonEncodedText.Encode("object");
    private static readonly JsonEncodedText CreatedName = JsonEncodedText.Encode("created");
    private static readonly JsonEncodedText ModelName = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText FingerprintName = JsonEncodedText.Encode("system_fingerprint");
    private static readonly JsonEncodedText Fingerprint = JsonEncodedText.Encode("poip");
    private static readonly JsonEncodedText ChoicesName = JsonEncodedText.Encode("choices");
    private static readonly JsonEncodedText IndexName = JsonEncodedText.Encode("index");
    private static readonly JsonEncodedText DeltaName = JsonEncodedText.Encode("delta");
    private static readonly JsonEncodedText RoleName = JsonEncodedText.Encode("role");
    private static readonly JsonEncodedText Assistant = JsonEncodedText.Encode("assistant");
    private static readonly JsonEncodedText ContentName = JsonEncodedText.Encode("content");
    private static readonly JsonEncodedText TextName = JsonEncodedText.Encode("text");
    private static readonly JsonEncodedText LogprobsName = JsonEncodedText.Encode("logprobs");
    private static readonly JsonEncodedText FinishReasonName = JsonEncodedText.Encode("finish_reason");
    private static readonly JsonEncodedText TextCompletion = JsonEncodedText.Encode("text_completion");
    private static readonly JsonEncodedText ChatChunk = JsonEncodedText.Encode("chat.completion.chunk");
    private static readonly JsonEncodedText ChatCompletion = JsonEncodedText.Encode("chat.completion");

    /// <summary>
    /// Writes one stream chunk (a whole JSON object) to <paramref name="json"/>. <paramref name="id"/> and
    /// <paramref name="model"/> come encoded once per request.
    /// </summary>
    public static void WriteChunk(Utf8JsonWriter json, CompletionKind kind, JsonEncodedText id, long created, JsonEncodedText model, bool withRole, string? content, string? finishReason, Usage? usage, PoIPInfo? poip)
    {
        json.WriteStartObject();
        Header(json, kind, id, created, model, stream: true);
        json.WriteStartArray(ChoicesName);
        if (content is not null || finishReason is not null || withRole)
        {
            json.WriteStartObject();
            json.WriteNumber(IndexName, 0);
            if (kind == CompletionKind.Chat)
            {
                json.WriteStartObject(DeltaName);
                if (withRole)
                {
                    json.WriteString(RoleName, Assistant);
                }

                if (content is not null)
                {
                    json.WriteString(ContentName, content);
                }

                json.WriteEndObject();
            }
            else
            {
                json.WriteString(TextName, content ?? string.Empty);
            }

            json.WriteNull(LogprobsName);
            WriteFinish(json, finishReason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        Tail(json, usage, poip);
        json.WriteEndObject();
    }

    /// <summary>Writes a whole (non-streamed) completion object to <paramref name="json"/>.</summary>
    public static void WriteFull(Utf8JsonWriter json, CompletionKind kind, string id, long created, string model, string text, string finishReason, Usage usage, PoIPInfo poip)
    {
        json.WriteStartObject();
        Header(json, kind, JsonEncodedText.Encode(id), created, JsonEncodedText.Encode(model), stream: false);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (kind == CompletionKind.Chat)
        {
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            json.WriteString("content", text);
            json.WriteNull("refusal");
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", text);
        }

        json.WriteNull("logprobs");
        json.WriteString("finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        Tail(json, usage, poip);
        json.WriteEndObject();
    }

    public static byte[] Error(ApiError error) => Write(json =>
    {
        json.WriteStartObject("error");
        json.WriteString("message", error.Message);
        json.WriteString("type", error.Type);
        if (error.Param is null)
        {
            json.WriteNull("param");
        }
        else
        {
            json.WriteString("param", error.Param);
        }

        json.WriteString("code", error.Code);
        json.WriteEndObject();
    });

    public static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Header(Utf8JsonWriter json, CompletionKind kind, JsonEncodedText id, long created, JsonEncodedText model, bool stream)
    {
        json.WriteString(IdName, id);
        json.WriteString(ObjectName, kind == CompletionKind.Text ? TextCompletion : stream ? ChatChunk : ChatCompletion);
        json.WriteNumber(CreatedName, created);
        json.WriteString(ModelName, model);
        json.WriteString(FingerprintName, Fingerprint);
    }

    private static void WriteFinish(Utf8JsonWriter json, string? finishReason)
    {
        if (finishReason is null)
        {
            json.WriteNull(FinishReasonName);
        }
        else
        {
            json.WriteString(FinishReasonName, finishReason);
        }
    }

    private static void Tail(Utf8JsonWriter json, Usage? usage, PoIPInfo? poip)
    {
        if (usage is { } u)
        {
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", u.PromptTokens);
            json.WriteNumber("completion_tokens", u.CompletionTokens);
            json.WriteNumber("total_tokens", u.PromptTokens + u.CompletionTokens);
            json.WriteEndObject();
        }

        if (poip is not null)
        {
            json.WriteStartObject("poip");
            json.WriteString("receipt_id", poip.ReceiptId);
            json.WriteString("request_id", poip.RequestId);
            json.WriteString("node_id", poip.NodeId);
            json.WriteString("model_id", poip.ModelId);
            json.WriteString("price", poip.Price);
            json.WriteString("price_cap", poip.PriceCap);
            json.WriteNumber("seed", poip.Seed);
            json.WriteString("prompt_format", poip.PromptFormat);
            json.WriteNumber("attempts", poip.Attempts);
            json.WriteString("audit", poip.AuditStatus);
            json.WriteString("audit_detail", poip.AuditDetail);
            json.WriteString("receipt_url", "/v1/receipts/" + poip.ReceiptId);
            json.WriteEndObject();
        }
    }
}
