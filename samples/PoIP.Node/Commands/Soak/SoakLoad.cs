using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace PoIP.Node.Commands.Soak;

/// <summary>One answered request: when it completed (since the load began) and what the gateway said it was (the stream's final chunk: request and receipt ids, the node that served it and its price in coins).</summary>
internal readonly record struct SoakAnswer(double CompletedAt, string RequestId, string ReceiptId, int Attempts, string NodeId, string Price);

/// <summary>What the load saw.</summary>
internal sealed record SoakLoadResult(IReadOnlyList<SoakAnswer> Answers, int Lost, int FailedAttempts, int UnclearFailures, IReadOnlyList<string> FailureSamples, TimeSpan Elapsed);

/// <summary>
/// Concurrent streaming clients on the gateway's OpenAI API (<c>POST /v1/chat/completions</c>, <c>stream: true</c>). Each
/// client sends one request after another until the deadline; a request whose attempt fails is retried (up to
/// <see cref="MaxAttempts"/> attempts, after the Retry-After the gateway gave, if any) and counts as lost when none is answered. A failure is clear when the gateway said
/// why (an HTTP error with an OpenAI error body, or an SSE error event); anything else (a dropped connection, a stream
/// without its final chunk) is unclear.
/// </summary>
internal sealed class SoakLoad(Uri api, string model, int maxTokens)
{
    public const int MaxAttempts = 5;

    /// <summary>Longest Retry-After honoured.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(10);

    private readonly ConcurrentBag<SoakAnswer> _answers = [];
    private readonly ConcurrentQueue<string> _failures = new();
    private int _lost;
    private int _failed;
    private int _unclear;

    /// <summary>Every client sends one request (connections made, paths JIT-compiled); its answers count for the ledger checks, not for throughput.</summary>
    public static async Task<IReadOnlyList<SoakAnswer>> WarmUpAsync(HttpClient http, Uri api, string model, int clients, int maxTokens, CancellationToken cancellationToken)
    {
        var load = new SoakLoad(api, model, maxTokens);
        var start = TimeProvider.System.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => load.OneRequestAsync(http, i, 0, start, cancellationToken)));
        if (load._lost > 0)
        {
            throw new InvalidOperationException("the warm-up failed: " + (load._failures.TryPeek(out string? why) ? why : "no answer"));
        }

        return [.. load._answers];
    }

    public async Task<SoakLoadResult> RunAsync(HttpClient http, int clients, TimeSpan duration, CancellationToken cancellationToken)
    {
        long start = TimeProvider.System.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(
            async () =>
            {
                for (int n = 0; TimeProvider.System.GetElapsedTime(start) < duration; n++)
                {
                    await OneRequestAsync(http, client, n, start, cancellationToken);
                }
            },
            cancellationToken)));
        return new SoakLoadResult([.. _answers.OrderBy(a => a.CompletedAt)], _lost, _failed, _unclear, [.. _failures.Take(5)], TimeProvider.System.GetElapsedTime(start));
    }

    private async Task OneRequestAsync(HttpClient http, int client, int n, long start, CancellationToken cancellationToken)
    {
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var (answer, error, clear, retryAfter) = await AttemptAsync(http, $"Once upon a time, client {client} told story {n}", cancellationToken);
            if (answer is { } a)
            {
                _answers.Add(new SoakAnswer(TimeProvider.System.GetElapsedTime(start).TotalSeconds, a.RequestId, a.ReceiptId, attempt, a.NodeId, a.Price));
                return;
            }

            Interlocked.Increment(ref _failed);
            if (!clear)
            {
                Interlocked.Increment(ref _unclear);
            }

            if (_failures.Count < 20)
            {
                _failures.Enqueue((clear ? "clear: " : "unclear: ") + error);
            }

            if (retryAfter is { } wait && attempt < MaxAttempts)
            {
                // An overloaded gateway (429/503) says when to come back: a well-behaved client waits that long (at most 10 s).
                await Task.Delay(wait < MaxRetryAfter ? wait : MaxRetryAfter, cancellationToken);
            }
        }

        Interlocked.Increment(ref _lost);
    }

    private async Task<((string RequestId, string ReceiptId, string NodeId, string Price)? Answer, string Error, bool Clear, TimeSpan? RetryAfter)> AttemptAsync(HttpClient http, string prompt, CancellationToken cancellationToken)
    {
        string body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = model,
            ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = prompt } },
            ["max_tokens"] = maxTokens,
            ["stream"] = true,
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api, "v1/chat/completions")) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                string text = await response.Content.ReadAsStringAsync(cancellationToken);
                var retryAfter = response.Headers.RetryAfter?.Delta;
                return ErrorMessage(text) is { } message ? (null, $"HTTP {(int)response.StatusCode}: {message}", true, retryAfter) : (null, $"HTTP {(int)response.StatusCode} without an error message", false, retryAfter);
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            (string, string, string, string)? answer = null;
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                string data = line["data: ".Length..];
                if (data == "[DONE]")
                {
                    return answer is null ? (null, "the stream ended without the PoIP receipt", false, null) : (answer, string.Empty, true, null);
                }

                using var json = JsonDocument.Parse(data);
                if (json.RootElement.TryGetProperty("error", out _))
                {
                    return ErrorMessage(data) is { } message ? (null, "stream error: " + message, true, null) : (null, "stream error without a message", false, null);
                }

                if (json.RootElement.TryGetProperty("poip", out var poip))
                {
                    answer = (poip.GetProperty("request_id").GetString()!, poip.GetProperty("receipt_id").GetString()!, poip.GetProperty("node_id").GetString()!, poip.GetProperty("price").GetString()!);
                }
            }

            return (null, "the stream ended without [DONE]", false, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (null, ex.Message, false, null);
        }
    }

    private static string? ErrorMessage(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message) && message.GetString() is { Length: > 0 } text ? text : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
