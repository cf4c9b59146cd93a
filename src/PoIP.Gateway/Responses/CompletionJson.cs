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
    public static byte[] Chunk(CompletionKind kind, string id, long created, string model, bool withRole, string? content, string? finishReason, Usage? usage, PoIPInfo? poip) =>
        Write(json =>
        {
            Header(json, kind, id, created, model, stream: true);
            json.WriteStartArray("choices");
            if (content is not null || finishReason is not null || withRole)
            {
                json.WriteStartObject();
                json.WriteNumber("index", 0);
                if (kind == CompletionKind.Chat)
                {
                    json.WriteStartObject("delta");
                    if (withRole)
                    {
                        json.WriteString("role", "assistant");
                    }

                    if (content is not null)
                    {
                        json.WriteString("content", content);
                    }

                    json.WriteEndObject();
                }
                else
                {
                    json.WriteString("text", content ?? string.Empty);
                }

                json.WriteNull("logprobs");
                WriteFinish(json, finishReason);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            Tail(json, usage, poip);
        });

    public static byte[] Full(CompletionKind kind, string id, long created, string model, string text, string finishReason, Usage usage, PoIPInfo poip) =>
        Write(json =>
        {
            Header(json, kind, id, created, model, stream: false);
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
        });

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

    private static void Header(Utf8JsonWriter json, CompletionKind kind, string id, long created, string model, bool stream)
    {
        json.WriteString("id", id);
        json.WriteString("object", kind == CompletionKind.Text ? "text_completion" : stream ? "chat.completion.chunk" : "chat.completion");
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteString("system_fingerprint", "poip");
    }

    private static void WriteFinish(Utf8JsonWriter json, string? finishReason)
    {
        if (finishReason is null)
        {
            json.WriteNull("finish_reason");
        }
        else
        {
            json.WriteString("finish_reason", finishReason);
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
