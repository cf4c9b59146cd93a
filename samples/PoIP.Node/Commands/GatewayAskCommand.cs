using System.ComponentModel;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class GatewayAskSettings : CommandSettings
{
    [CommandArgument(0, "<PROMPT>")]
    [Description("Prompt text (several prompts are asked in turn; with --repeat they cycle).")]
    public string[] Prompts { get; init; } = [];

    [CommandOption("--url <URL>")]
    [Description("The gateway's base URL, e.g. http://127.0.0.1:8080 (what 'poip gateway run' printed, without /v1).")]
    public string? Url { get; init; }

    [CommandOption("--model <NAME>")]
    [Description("The model name to send. Default: the gateway's first model (GET /v1/models).")]
    public string? Model { get; init; }

    [CommandOption("--repeat <N>")]
    [Description("Requests to send, one after another (1-10000). Default 1.")]
    public int Repeat { get; init; } = 1;

    [CommandOption("--max-tokens <N>")]
    [Description("max_tokens of each request (1-65536). Default 48.")]
    public int MaxTokens { get; init; } = 48;

    [CommandOption("--seed <S>")]
    [Description("Sampling seed of the first request; request i uses S + i. Default 1.")]
    public ulong Seed { get; init; } = 1;

    [CommandOption("--wait-nodes <N>")]
    [Description("Before the first request, wait until the gateway's /health counts at least N nodes (0-1000; within --timeout). Default 0.")]
    public int WaitNodes { get; init; }

    [CommandOption("--audit-wait <SECONDS>")]
    [Description("After each answer, wait up to this long for its audit (GET /v1/receipts/ID?wait=S; 0-60). Default 0: report the audit as the answer had it.")]
    public int AuditWait { get; init; }

    [CommandOption("--timeout <SECONDS>")]
    [Description("Longest wait for one HTTP call, and for --wait-nodes (1-3600). Default 120.")]
    public int Timeout { get; init; } = 120;

    [CommandOption("--json")]
    [Description("One JSON line per request (the answer, or its error), then one summary line.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Url is null ? ValidationResult.Error("--url is required (the gateway's base URL, e.g. http://127.0.0.1:8080).")
        : !Uri.TryCreate(Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) ? ValidationResult.Error($"--url must be an http(s) URL (got '{Url}').")
        : Prompts.Length == 0 ? ValidationResult.Error("a prompt is required.")
        : Repeat is < 1 or > 10_000 ? ValidationResult.Error("--repeat must be 1 to 10000.")
        : MaxTokens is < 1 or > 65_536 ? ValidationResult.Error("--max-tokens must be 1 to 65536.")
        : WaitNodes is < 0 or > 1000 ? ValidationResult.Error("--wait-nodes must be 0 to 1000.")
        : AuditWait is < 0 or > 60 ? ValidationResult.Error("--audit-wait must be 0 to 60 seconds.")
        : Timeout is < 1 or > 3600 ? ValidationResult.Error("--timeout must be 1 to 3600 seconds.")
        : ValidationResult.Success();
}

/// <summary>
/// <c>poip gateway ask</c>: a user of the OpenAI-compatible API. Sends <c>POST /v1/completions</c> to a
/// gateway, one request after another, and prints each answer with the <c>poip</c> object the gateway
/// returned (node, request and receipt ids, price; the audit after <c>--audit-wait</c>). A request the
/// gateway refuses or that fails in flight is reported with the gateway's error and the others go on;
/// the exit code is 1 when any failed.
/// </summary>
internal sealed class GatewayAskCommand : AsyncCommand<GatewayAskSettings>
{
    private const int MaxResponseBytes = 4 << 20;

    public override async Task<int> ExecuteAsync(CommandContext context, GatewayAskSettings settings, CancellationToken cancellationToken)
    {
        var baseUrl = new Uri(settings.Url!.TrimEnd('/') + "/");
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(settings.Timeout), MaxResponseContentBufferSize = MaxResponseBytes };
        var time = TimeProvider.System;
        try
        {
            if (settings.WaitNodes > 0)
            {
                await WaitForNodesAsync(http, settings.WaitNodes, TimeSpan.FromSeconds(settings.Timeout), time, cancellationToken);
            }

            string model = settings.Model ?? await FirstModelAsync(http, cancellationToken);
            int failed = 0;
            var started = time.GetTimestamp();
            for (int i = 0; i < settings.Repeat; i++)
            {
                var line = await AskOnceAsync(http, settings, model, i, time, cancellationToken);
                failed += line.ContainsKey("error") ? 1 : 0;
                Print(settings, line);
            }

            var summary = new JsonObject
            {
                ["requests"] = settings.Repeat,
                ["answered"] = settings.Repeat - failed,
                ["failed"] = failed,
                ["elapsed_ms"] = Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 1),
            };
            if (settings.Json)
            {
                Console.WriteLine(summary.ToJsonString());
            }
            else
            {
                AnsiConsole.MarkupLine($"[bold]{settings.Repeat - failed}[/] of {settings.Repeat} answered.");
            }

            return failed == 0 ? ExitCodes.Ok : ExitCodes.Fault;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or InvalidDataException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"error: gateway {baseUrl}: {Describe(ex)}");
            return ExitCodes.Fault;
        }
    }

    private static async Task<JsonObject> AskOnceAsync(HttpClient http, GatewayAskSettings settings, string model, int index, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["prompt"] = settings.Prompts[index % settings.Prompts.Length],
            ["max_tokens"] = settings.MaxTokens,
            ["seed"] = unchecked((long)(settings.Seed + (ulong)index)),
        };
        var line = new JsonObject { ["index"] = index + 1 };
        var started = time.GetTimestamp();
        try
        {
            using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
            using var response = await http.PostAsync("v1/completions", content, cancellationToken);
            var json = await ReadJsonAsync(response, cancellationToken);
            line["elapsed_ms"] = Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 1);
            if (!response.IsSuccessStatusCode)
            {
                line["status"] = (int)response.StatusCode;
                line["error"] = ErrorText(response, json);
                return line;
            }

            var poip = json?["poip"] as JsonObject ?? throw new InvalidDataException("the answer has no poip object.");
            line["node"] = poip["node_id"]?.GetValue<string>();
            line["request_id"] = poip["request_id"]?.GetValue<string>();
            line["receipt_id"] = poip["receipt_id"]?.GetValue<string>();
            line["price"] = poip["price"]?.GetValue<string>();
            line["attempts"] = poip["attempts"]?.GetValue<int>();
            line["text"] = json!["choices"]?[0]?["text"]?.GetValue<string>();
            line["audit"] = poip["audit"]?.GetValue<string>();
            line["audit_detail"] = poip["audit_detail"]?.GetValue<string>();
            if (settings.AuditWait > 0 && line["receipt_id"]?.GetValue<string>() is { } receipt)
            {
                using var audit = await http.GetAsync($"v1/receipts/{Uri.EscapeDataString(receipt)}?wait={settings.AuditWait.ToString(CultureInfo.InvariantCulture)}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (audit.IsSuccessStatusCode && audit.Headers.TryGetValues("x-poip-audit", out var states))
                {
                    line["audit"] = states.First();
                    line["audit_detail"] = audit.Headers.TryGetValues("x-poip-audit-detail", out var details) ? Uri.UnescapeDataString(details.First()) : null;
                }
            }

            return line;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidDataException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            line["elapsed_ms"] = Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 1);
            line["error"] = Describe(ex);
            return line;
        }
    }

    private static async Task WaitForNodesAsync(HttpClient http, int nodes, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        int seen = 0;
        string? last = null;
        for (int attempt = 0; attempt < 100_000; attempt++)
        {
            try
            {
                using var response = await http.GetAsync("health", cancellationToken);
                var json = await ReadJsonAsync(response, cancellationToken);
                seen = json?["nodes"]?.GetValue<int>() ?? 0;
                if (seen >= nodes)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidDataException or JsonException or InvalidOperationException)
            {
                last = Describe(ex);
            }

            if (time.GetElapsedTime(started) > limit)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken); // polling an external process, bounded by the limit
        }

        throw new TimeoutException($"the gateway knew {seen} of {nodes} nodes after {limit.TotalSeconds:0} s{(last is null ? string.Empty : " (" + last + ")")}");
    }

    private static async Task<string> FirstModelAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("v1/models", cancellationToken);
        var json = await ReadJsonAsync(response, cancellationToken);
        return response.IsSuccessStatusCode && json?["data"]?[0]?["id"]?.GetValue<string>() is { } id
            ? id
            : throw new InvalidDataException("GET /v1/models: " + ErrorText(response, json));
    }

    private static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new InvalidDataException($"HTTP {(int)response.StatusCode}: the body is not JSON.");
        }
    }

    private static string ErrorText(HttpResponseMessage response, JsonNode? json) =>
        $"HTTP {(int)response.StatusCode} {json?["error"]?["code"]?.GetValue<string>() ?? response.ReasonPhrase}: {json?["error"]?["message"]?.GetValue<string>() ?? "(no message)"}";

    private static string Describe(Exception ex) => ex switch
    {
        TaskCanceledException => "no answer within the timeout",
        HttpRequestException http => http.InnerException is { } inner ? $"{http.Message} ({inner.Message})" : http.Message,
        _ => ex.Message,
    };

    private static void Print(GatewayAskSettings settings, JsonObject line)
    {
        if (settings.Json)
        {
            Console.WriteLine(line.ToJsonString());
            return;
        }

        if (line["error"] is { } error)
        {
            AnsiConsole.MarkupLine($"[red]#{line["index"]} failed:[/] {Markup.Escape(error.GetValue<string>())}");
            return;
        }

        AnsiConsole.MarkupLine($"[bold]#{line["index"]}[/] node {Markup.Escape(line["node"]?.GetValue<string>() ?? "?")}, price {Markup.Escape(line["price"]?.GetValue<string>() ?? "?")}, audit {Markup.Escape(line["audit"]?.GetValue<string>() ?? "?")}");
        Console.WriteLine(line["text"]?.GetValue<string>());
    }
}
