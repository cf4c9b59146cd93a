using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using PoIP.Core.Protocol;
using PoIP.Gateway.Chat;

namespace PoIP.Gateway.Requests;

/// <summary>
/// Reads an OpenAI chat or text completion body: every field is type- and range-checked and a
/// problem names the field (<c>messages[2].role</c>); fields this gateway does not implement are
/// refused when they ask for something it cannot do (<c>n</c> ≠ 1, <c>logprobs</c>, tools) and
/// ignored when harmless (<c>user</c>, zero penalties). PoIP's other sampler settings are extra
/// fields: <c>top_k</c>, <c>min_p</c>, <c>repetition_penalty</c>, <c>repetition_window</c>.
/// Unset sampler fields take PoIP's defaults (<see cref="SamplingParameters"/>); an absent
/// <c>seed</c> is drawn at random and reported in the <c>poip</c> object.
/// </summary>
internal sealed class CompletionRequestParser(PoIPGatewayOptions options)
{
    private const int MaxDepth = 16;

    public (CompletionRequest? Request, ApiError? Error) Parse(ReadOnlyMemory<byte> body, CompletionKind kind)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            return (null, new ApiError(400, "The body is not valid JSON: " + ex.Message, null, "invalid_json"));
        }

        using (document)
        {
            try
            {
                return (Read(document.RootElement, kind), null);
            }
            catch (FieldException ex)
            {
                return (null, ex.Error);
            }
        }
    }

    private CompletionRequest Read(JsonElement root, CompletionKind kind)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FieldException(new ApiError(400, "The body must be a JSON object.", null, "invalid_json"));
        }

        string modelName = RequiredString(root, "model");
        var model = options.Models.FirstOrDefault(m => m.Name == modelName || m.Id.ToString() == modelName)
            ?? throw new FieldException(ApiError.UnknownModel(modelName));

        if (Optional(root, "n") is { } n && (n.ValueKind != JsonValueKind.Number || !n.TryGetInt32(out int count) || count != 1))
        {
            throw Field("n", "Only n = 1 is supported (one choice per request).", "unsupported_value");
        }

        if (Optional(root, "best_of") is { } bestOf && (bestOf.ValueKind != JsonValueKind.Number || !bestOf.TryGetInt32(out int best) || best != 1))
        {
            throw Field("best_of", "Only best_of = 1 is supported.", "unsupported_value");
        }

        RefuseIfTrue(root, "logprobs", "logprobs are not supported.");
        RefuseIfTrue(root, "echo", "echo is not supported.");
        if (Optional(root, "tools") is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0)
        {
            throw Field("tools", "Tool calls are not supported.", "unsupported_value");
        }

        if (Optional(root, "response_format") is { } format && !(format.ValueKind == JsonValueKind.Object && format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "text"))
        {
            throw Field("response_format", "Only response_format {\"type\": \"text\"} is supported.", "unsupported_value");
        }

        ZeroOrAbsent(root, "frequency_penalty");
        ZeroOrAbsent(root, "presence_penalty");

        ChatTemplate? template = null;
        string prompt = kind == CompletionKind.Chat
            ? (template = ChatTemplate.FromGguf(model.ChatTemplate)).Render(ReadMessages(root))
            : ReadPrompt(root);
        if (System.Text.Encoding.UTF8.GetByteCount(prompt) > InferenceRequest.MaxInputLength)
        {
            throw Field(kind == CompletionKind.Chat ? "messages" : "prompt", $"The prompt is longer than {InferenceRequest.MaxInputLength} bytes.", "prompt_too_long");
        }

        int maxTokens = options.DefaultMaxTokens;
        foreach (string name in new[] { "max_completion_tokens", "max_tokens" })
        {
            if (Optional(root, name) is { } value)
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long tokens))
                {
                    throw Field(name, $"{name} must be an integer.", "invalid_type");
                }

                if (tokens < 1 || tokens > options.MaxTokensLimit)
                {
                    throw Field(name, $"{name} must be in [1, {options.MaxTokensLimit}] (got {tokens}).");
                }

                maxTokens = (int)tokens;
                break;
            }
        }

        var defaults = new SamplingParameters();
        var sampling = new SamplingParameters
        {
            Temperature = Number(root, "temperature", defaults.Temperature, 0, 2),
            TopP = Number(root, "top_p", defaults.TopP, float.Epsilon, 1),
            TopK = Integer(root, "top_k", defaults.TopK, 0, 100_000),
            MinP = Number(root, "min_p", defaults.MinP, 0, 1),
            RepetitionPenalty = Number(root, "repetition_penalty", defaults.RepetitionPenalty, 1, 10),
            RepetitionWindow = Integer(root, "repetition_window", defaults.RepetitionWindow, 0, 4096),
            StopSequences = ReadStops(root),
        };
        if (sampling.Validate() is { } problem)
        {
            throw new FieldException(new ApiError(400, problem, null, "invalid_value"));
        }

        ulong seed;
        if (Optional(root, "seed") is { } seedValue)
        {
            seed = seedValue.ValueKind == JsonValueKind.Number && seedValue.TryGetInt64(out long signed) ? unchecked((ulong)signed)
                : seedValue.ValueKind == JsonValueKind.Number && seedValue.TryGetUInt64(out ulong unsigned) ? unsigned
                : throw Field("seed", "seed must be an integer.", "invalid_type");
        }
        else
        {
            seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        }

        bool stream = Bool(root, "stream", false);
        bool includeUsage = false;
        if (Optional(root, "stream_options") is { } streamOptions)
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                throw Field("stream_options", "stream_options must be an object.", "invalid_type");
            }

            includeUsage = Bool(streamOptions, "include_usage", false, "stream_options.include_usage");
        }

        return new CompletionRequest(kind, model, prompt, template?.Name ?? "none", maxTokens, sampling, seed, stream, includeUsage);
    }

    private List<ChatTurn> ReadMessages(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind == JsonValueKind.Null)
        {
            throw Field("messages", "messages is required.", "missing_required_parameter");
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw Field("messages", "messages must be an array.", "invalid_type");
        }

        int count = messages.GetArrayLength();
        if (count == 0)
        {
            throw Field("messages", "messages must hold at least one message.");
        }

        if (count > options.MaxMessages)
        {
            throw Field("messages", $"At most {options.MaxMessages} messages are accepted (got {count}).", "too_many_messages");
        }

        var turns = new List<ChatTurn>(count);
        int i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"messages[{i}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw Field(at, $"{at} must be an object.", "invalid_type");
            }

            string role = RequiredString(message, "role", at + ".role");
            var chatRole = role switch
            {
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                _ => throw Field(at + ".role", $"Unknown or unsupported role '{ApiError.Shorten(role)}' (system, developer, user, assistant).", "invalid_value"),
            };
            turns.Add(new ChatTurn(chatRole, ReadContent(message, at + ".content", chatRole == ChatRole.Assistant)));
            i++;
        }

        return turns;
    }

    private static string ReadContent(JsonElement message, string at, bool mayBeNull)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return mayBeNull ? string.Empty : throw Field(at, $"{at} is required.", "missing_required_parameter");
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw Field(at, $"{at} must be a string or an array of text parts.", "invalid_type");
        }

        var text = new System.Text.StringBuilder();
        int j = 0;
        foreach (var part in content.EnumerateArray())
        {
            string partAt = $"{at}[{j++}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                throw Field(partAt, $"{partAt} must be an object with a type.", "invalid_type");
            }

            if (type.GetString() != "text")
            {
                throw Field(partAt + ".type", $"Only text content parts are supported (got '{ApiError.Shorten(type.GetString()!)}').", "unsupported_value");
            }

            text.Append(RequiredString(part, "text", partAt + ".text"));
        }

        return text.ToString();
    }

    private static string ReadPrompt(JsonElement root)
    {
        if (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind == JsonValueKind.Null)
        {
            throw Field("prompt", "prompt is required.", "missing_required_parameter");
        }

        if (prompt.ValueKind == JsonValueKind.String)
        {
            return prompt.GetString()!;
        }

        if (prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String)
        {
            return prompt[0].GetString()!;
        }

        throw Field("prompt", "prompt must be a string (or an array of exactly one string; batches and token arrays are not supported).", "invalid_type");
    }

    private static List<string> ReadStops(JsonElement root)
    {
        var stop = Optional(root, "stop");
        if (stop is null)
        {
            return [];
        }

        if (stop.Value.ValueKind == JsonValueKind.String)
        {
            return [StopText(stop.Value.GetString()!, "stop")];
        }

        if (stop.Value.ValueKind != JsonValueKind.Array)
        {
            throw Field("stop", "stop must be a string or an array of strings.", "invalid_type");
        }

        if (stop.Value.GetArrayLength() > SamplingParameters.MaxStopSequences)
        {
            throw Field("stop", $"At most {SamplingParameters.MaxStopSequences} stop sequences are accepted.");
        }

        var stops = new List<string>();
        int i = 0;
        foreach (var s in stop.Value.EnumerateArray())
        {
            string at = $"stop[{i++}]";
            stops.Add(s.ValueKind == JsonValueKind.String ? StopText(s.GetString()!, at) : throw Field(at, $"{at} must be a string.", "invalid_type"));
        }

        return stops;
    }

    private static string StopText(string text, string at) =>
        text.Length is >= 1 and <= SamplingParameters.MaxStopSequenceLength ? text
        : throw Field(at, $"{at} must be 1 to {SamplingParameters.MaxStopSequenceLength} characters.");

    private static float Number(JsonElement root, string name, float fallback, float min, float max)
    {
        if (Optional(root, name) is not { } value)
        {
            return fallback;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number))
        {
            throw Field(name, $"{name} must be a number.", "invalid_type");
        }

        return number >= min && number <= max ? (float)number
            : throw Field(name, string.Create(CultureInfo.InvariantCulture, $"{name} must be in {(min == float.Epsilon ? "(0" : "[" + min)}, {max}] (got {number})."));
    }

    private static int Integer(JsonElement root, string name, int fallback, int min, int max)
    {
        if (Optional(root, name) is not { } value)
        {
            return fallback;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long number))
        {
            throw Field(name, $"{name} must be an integer.", "invalid_type");
        }

        return number >= min && number <= max ? (int)number : throw Field(name, $"{name} must be in [{min}, {max}] (got {number}).");
    }

    private static bool Bool(JsonElement root, string name, bool fallback, string? param = null) => Optional(root, name) switch
    {
        null => fallback,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw Field(param ?? name, $"{param ?? name} must be a boolean.", "invalid_type"),
    };

    private static void RefuseIfTrue(JsonElement root, string name, string message)
    {
        var value = Optional(root, name);
        if (value is { ValueKind: JsonValueKind.True } || value is { ValueKind: JsonValueKind.Number } number && number.TryGetInt32(out int n) && n > 0)
        {
            throw Field(name, message, "unsupported_value");
        }
    }

    private static void ZeroOrAbsent(JsonElement root, string name)
    {
        if (Optional(root, name) is { } value && (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d) || d != 0))
        {
            throw Field(name, $"{name} is not supported (only 0); use repetition_penalty.", "unsupported_value");
        }
    }

    private static string RequiredString(JsonElement element, string name, string? param = null)
    {
        param ??= name;
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Field(param, $"{param} is required.", "missing_required_parameter");
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Field(param, $"{param} must be a string.", "invalid_type");
    }

    /// <summary>The property, or null when absent or JSON null (OpenAI clients send nulls for unset fields).</summary>
    private static JsonElement? Optional(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static FieldException Field(string param, string message, string code = "invalid_value") => new(ApiError.Field(param, message, code));

    private sealed class FieldException(ApiError error) : Exception(error.Message)
    {
        public ApiError Error { get; } = error;
    }
}
