using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PoIP.Core.Identity;
using PoIP.Gateway.Chat;
using PoIP.Gateway.Requests;
using PoIP.Gateway.Responses;
using PoIP.Hosting.Client;

namespace PoIP.Gateway;

/// <summary>The read-only endpoints: models, nodes, receipts, health; and the API-key check.</summary>
internal sealed class GatewayEndpoints(PoIPGatewayOptions options, ClientAccessor client, ReceiptStore receipts, TimeProvider time)
{
    /// <summary>Longest <c>?wait=</c> on <c>/v1/receipts/{id}</c>.</summary>
    public const int MaxAuditWaitSeconds = 60;

    public async Task ModelsAsync(HttpContext context)
    {
        byte[] json = CompletionJson.Write(w =>
        {
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var model in options.Models)
            {
                w.WriteStartObject();
                WriteModel(w, model);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
        await WriteJsonAsync(context, 200, json).ConfigureAwait(false);
    }

    public async Task ModelAsync(HttpContext context, string id)
    {
        var model = options.Models.FirstOrDefault(m => m.Name == id || m.Id.ToString() == id);
        if (model is null)
        {
            await WriteErrorAsync(context, ApiError.UnknownModel(id)).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, 200, CompletionJson.Write(w => WriteModel(w, model))).ConfigureAwait(false);
    }

    public async Task ReceiptAsync(HttpContext context, string id)
    {
        if (receipts.Find(id) is not { } entry)
        {
            await WriteErrorAsync(context, new ApiError(404, $"No receipt '{ApiError.Shorten(id)}' is held by this gateway.", "receipt_id", "receipt_not_found")).ConfigureAwait(false);
            return;
        }

        // ?wait=SECONDS (0 to 60): wait that long for an audit still running (it runs after the answer).
        string? waitText = context.Request.Query["wait"];
        if (waitText is not null)
        {
            if (!int.TryParse(waitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int wait) || wait > MaxAuditWaitSeconds)
            {
                await WriteErrorAsync(context, new ApiError(400, $"wait must be a whole number of seconds from 0 to {MaxAuditWaitSeconds}.", "wait", "invalid_value")).ConfigureAwait(false);
                return;
            }

            try
            {
                await entry.Audited.WaitAsync(TimeSpan.FromSeconds(wait), time, context.RequestAborted).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // still pending: answer with the state now
            }
        }

        var (status, detail) = entry.Audit;
        context.Response.Headers["x-poip-audit"] = status;
        context.Response.Headers["x-poip-audit-detail"] = Uri.EscapeDataString(detail.Length > 512 ? detail[..512] : detail);
        await WriteJsonAsync(context, 200, entry.File).ConfigureAwait(false);
    }

    public async Task NodesAsync(HttpContext context)
    {
        var poip = client.Get();
        var listings = await ListAsync(poip, context.RequestAborted).ConfigureAwait(false);
        var latencies = poip.Latencies;
        var stakes = new Dictionary<PeerId, string>();
        foreach (var listing in listings)
        {
            var id = listing.Address.PeerId!.Value;
            var stake = await poip.Options.Stakes.GetStakeAsync(id, context.RequestAborted).ConfigureAwait(false);
            stakes[id] = stake.Bonded.ToString();
        }

        byte[] json = CompletionJson.Write(w =>
        {
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var listing in listings)
            {
                var id = listing.Address.PeerId!.Value;
                w.WriteStartObject();
                w.WriteString("node_id", id.ToString());
                w.WriteString("address", listing.Address.ToString());
                if (latencies.TryGetValue(id, out var latency))
                {
                    w.WriteNumber("latency_ms", Math.Round(latency.TotalMilliseconds, 2));
                }
                else
                {
                    w.WriteNull("latency_ms");
                }

                w.WriteString("stake", stakes[id]);
                w.WriteNumber("reputation", Math.Round(poip.Reputation.GetScore(id), 4));
                w.WriteString("circuit", poip.IsBroken(id) ? "open" : "closed");
                if (listing.PricePerToken is { } price)
                {
                    w.WriteString("price_per_token", price.ToString());
                }
                else
                {
                    w.WriteNull("price_per_token");
                }

                poip.Diagnoses.TryGetValue(id, out var diagnosis);
                if ((diagnosis?.TokensPerSecond ?? listing.TokensPerSecond) is { } speed)
                {
                    w.WriteNumber("tokens_per_second", speed);
                }
                else
                {
                    w.WriteNull("tokens_per_second");
                }

                if ((diagnosis?.KnownAnswerPassed ?? listing.KnownAnswerPassed) is { } passed)
                {
                    w.WriteBoolean("known_answer_passed", passed);
                }
                else
                {
                    w.WriteNull("known_answer_passed");
                }

                w.WriteBoolean("routed_around", diagnosis?.KnownAnswerPassed == false);
                if (diagnosis is null)
                {
                    w.WriteNull("diagnosis");
                }
                else
                {
                    w.WriteStartObject("diagnosis");
                    w.WriteNumber("at", diagnosis.At.ToUnixTimeSeconds());
                    w.WriteString("detail", diagnosis.Detail);
                    w.WriteString("engine", diagnosis.Engine?.ToString());
                    w.WriteNumber("challenges", diagnosis.Challenges);
                    if (diagnosis.TimeToFirstToken is { } ttft)
                    {
                        w.WriteNumber("time_to_first_token_ms", Math.Round(ttft.TotalMilliseconds, 2));
                    }
                    else
                    {
                        w.WriteNull("time_to_first_token_ms");
                    }

                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
        await WriteJsonAsync(context, 200, json).ConfigureAwait(false);
    }

    public async Task HealthAsync(HttpContext context)
    {
        int nodes;
        try
        {
            nodes = (await ListAsync(client.Get(), context.RequestAborted).ConfigureAwait(false)).Count;
        }
        catch (InvalidOperationException)
        {
            nodes = 0; // the PoIP host has not started yet
        }

        await WriteJsonAsync(context, nodes > 0 ? 200 : 503, CompletionJson.Write(w =>
        {
            w.WriteString("status", nodes > 0 ? "ready" : "no_nodes");
            w.WriteNumber("nodes", nodes);
        })).ConfigureAwait(false);
    }

    /// <summary>Refuses a <c>/v1</c> call without an accepted bearer key (when keys are configured).</summary>
    public bool Authorized(HttpContext context)
    {
        if (options.ApiKeys.Count == 0)
        {
            return true;
        }

        string header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && options.ApiKeys.Contains(header["Bearer ".Length..].Trim());
    }

    public Task UnauthorizedAsync(HttpContext context) =>
        WriteErrorAsync(context, new ApiError(401, "A valid API key is required (Authorization: Bearer KEY).", null, "invalid_api_key"));

    public Task NotFoundAsync(HttpContext context) =>
        WriteErrorAsync(context, new ApiError(404, $"Unknown endpoint {context.Request.Method} {ApiError.Shorten(context.Request.Path.ToString())}.", null, "unknown_url"));

    private async Task<List<NodeListing>> ListAsync(PoIPClient poip, CancellationToken ct)
    {
        var all = new List<NodeListing>();
        foreach (var model in options.Models)
        {
            all.AddRange(await poip.Directory.FindNodesAsync(model.Id, ct).ConfigureAwait(false));
        }

        return [.. all.Where(l => l.Address.PeerId is not null).DistinctBy(l => l.Address.PeerId)];
    }

    private static void WriteModel(Utf8JsonWriter w, GatewayModel model)
    {
        w.WriteString("id", model.Name);
        w.WriteString("object", "model");
        w.WriteNumber("created", 0);
        w.WriteString("owned_by", "poip");
        w.WriteStartObject("poip");
        w.WriteString("model_id", model.Id.ToString());
        w.WriteString("prompt_format", ChatTemplate.FromGguf(model.ChatTemplate).Name);
        w.WriteEndObject();
    }

    private Task WriteErrorAsync(HttpContext context, ApiError error) => CompletionHandler.WriteErrorCoreAsync(context, error, options.RetryAfterSeconds);

    private static async Task WriteJsonAsync(HttpContext context, int status, byte[] json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(json, context.RequestAborted).ConfigureAwait(false);
    }
}
