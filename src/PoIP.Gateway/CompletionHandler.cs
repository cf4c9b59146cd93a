using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using PoIP.Core.Engine;
using PoIP.Core.Identity;
using PoIP.Core.Protocol;
using PoIP.Gateway.Requests;
using PoIP.Gateway.Responses;
using PoIP.Gateway.Streaming;
using PoIP.Hosting.Client;
using PoIP.Inference.Verification;

namespace PoIP.Gateway;

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>POST /v1/completions</c>: reads and validates the body,
/// renders the prompt (so the signed request covers exactly it), waits for a slot, asks the network
/// through <see cref="PoIPClient"/> and answers in OpenAI's shape, streamed (SSE) or whole. A stream
/// commits its 200 only when the first token arrived, so a request no node takes still gets a 503;
/// after that a failure is a <c>data: {"error": …}</c> event. The caller going away cancels the
/// generation on the node.
/// </summary>
internal sealed class CompletionHandler(
    PoIPGatewayOptions options,
    ClientAccessor client,
    AdmissionGate gate,
    ReceiptStore receipts,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<CompletionHandler> logger)
{
    private readonly CompletionRequestParser _parser = new(options);

    public async Task HandleAsync(HttpContext context, CompletionKind kind)
    {
        long started = time.GetTimestamp();
        var ct = context.RequestAborted;
        var body = await ReadBodyAsync(context.Request, ct).ConfigureAwait(false);
        if (body.Error is not null)
        {
            await WriteErrorAsync(context, body.Error).ConfigureAwait(false);
            return;
        }

        CompletionRequest? request;
        ApiError? error;
        try
        {
            (request, error) = _parser.Parse(body.Rented.AsMemory(0, body.Length), kind);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body.Rented!);
        }

        if (request is null)
        {
            await WriteErrorAsync(context, error!).ConfigureAwait(false);
            return;
        }

        var entered = await gate.EnterAsync(ct).ConfigureAwait(false);
        if (entered != AdmissionGate.Result.Entered)
        {
            metrics.Rejected(entered == AdmissionGate.Result.QueueFull ? "queue_full" : "queue_timeout");
            await WriteErrorAsync(context, entered == AdmissionGate.Result.QueueFull
                ? new ApiError(429, "The gateway's queue is full; retry later.", null, "queue_full", "rate_limit_error")
                : new ApiError(503, "No slot became free in time; retry later.", null, "queue_timeout", "server_error")).ConfigureAwait(false);
            return;
        }

        try
        {
            if (request.Stream)
            {
                await StreamAsync(context, request, started, ct).ConfigureAwait(false);
            }
            else
            {
                await AnswerAsync(context, request, started, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Log.ClientGone(logger);
        }
        finally
        {
            gate.Exit();
        }
    }

    private async Task AnswerAsync(HttpContext context, CompletionRequest request, long started, CancellationToken ct)
    {
        ClientAnswer answer;
        try
        {
            answer = await client.Get().AskAsync(request.Prompt, ToAsk(request), onText: null, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await WriteErrorAsync(context, Failure(ex, request, started)).ConfigureAwait(false);
            return;
        }

        var filter = new StopFilter(request.Sampling.StopSequences);
        string text = filter.Push(answer.Text) + filter.Flush();
        var poip = Record(request, answer, started, null);
        context.Response.Headers["x-poip-request-id"] = poip.RequestId;
        context.Response.ContentType = "application/json";
        var pipe = context.Response.BodyWriter;
        using (var json = new Utf8JsonWriter(pipe, CompletionJson.WriterOptions))
        {
            CompletionJson.WriteFull(json, request.Kind, Id(request.Kind, poip.RequestId), Created(), request.Model.Name, text, FinishReason(answer, filter), UsageOf(answer), poip);
        }

        await pipe.FlushAsync(ct).ConfigureAwait(false);
    }

    private async Task StreamAsync(HttpContext context, CompletionRequest request, long started, CancellationToken ct)
    {
        var pieces = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        SignedMessage<InferenceRequest>? signed = null;
        var ask = client.Get().AskAsync(
            request.Prompt,
            ToAsk(request),
            piece => pieces.Writer.TryWrite(piece),
            (r, _) => Volatile.Write(ref signed, r),
            ct);
        _ = ask.ContinueWith(t => pieces.Writer.TryComplete(), TaskScheduler.Default);

        bool any = await pieces.Reader.WaitToReadAsync(ct).ConfigureAwait(false);
        TimeSpan? firstToken = any ? time.GetElapsedTime(started) : null;
        if (!any && ask.IsFaulted)
        {
            await WriteErrorAsync(context, Failure(ask.Exception!.InnerException!, request, started)).ConfigureAwait(false);
            return;
        }

        string requestId = Volatile.Read(ref signed) is { } s ? new Core.Hashing.RequestId(s.Hash).ToString() : (await ask.ConfigureAwait(false)).Receipt.Message.RequestId.ToString();
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["x-poip-request-id"] = requestId;
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var pipe = response.BodyWriter;
        using var events = new ChunkWriter(pipe, request.Kind, Id(request.Kind, requestId), Created(), request.Model.Name);
        var filter = new StopFilter(request.Sampling.StopSequences);
        bool chat = request.Kind == CompletionKind.Chat;
        bool first = true;
        var reader = pieces.Reader;
        while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            // Every piece already waiting goes into the pipe, then one flush: a piece never waits for the next
            // one, and pieces that arrived together leave in one socket write.
            while (reader.TryRead(out string? piece))
            {
                string released = filter.Push(piece);
                if (released.Length > 0 || (first && chat))
                {
                    events.Chunk(first && chat, released, null, null, null);
                    first = false;
                }
            }

            await pipe.FlushAsync(ct).ConfigureAwait(false);
        }

        ClientAnswer answer;
        try
        {
            answer = await ask.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            events.Error(Failure(ex, request, started));
            await pipe.FlushAsync(ct).ConfigureAwait(false);
            return;
        }

        string rest = filter.Flush();
        if (rest.Length > 0)
        {
            events.Chunk(first && chat, rest, null, null, null);
        }

        var poip = Record(request, answer, started, firstToken);
        string finish = FinishReason(answer, filter);
        events.Chunk(false, chat ? null : string.Empty, finish, null, request.IncludeUsage ? null : poip);
        if (request.IncludeUsage)
        {
            events.Chunk(false, null, null, UsageOf(answer), poip);
        }

        events.End();
        await pipe.FlushAsync(ct).ConfigureAwait(false);
    }

    private PoIPInfo Record(CompletionRequest request, ClientAnswer answer, long started, TimeSpan? firstToken)
    {
        var receipt = answer.Receipt;
        string receiptId = receipt.Hash.ToString();
        var (audit, detail) = AuditStatus.Now(answer);
        receipts.Add(receiptId, new ReceiptFile(answer.Request, request.Prompt, receipt, answer.OutputTokens), audit, detail, auditFinal: false);
        _ = answer.Audit.ContinueWith(
            t =>
            {
                // The first try ends after the answer went out (it never holds back the final chunk); a pending one is retried.
                var (outcome, outcomeDetail) = AuditStatus.Of(t.GetAwaiter().GetResult()); // a continuation: t has completed (it never faults)
                receipts.SetAudit(receiptId, outcome, outcomeDetail, final: false);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion,
            TaskScheduler.Default);
        _ = answer.FinalAudit.ContinueWith(
            t =>
            {
                // Decided, or still pending once the retries are spent: final for /v1/receipts.
                var (outcome, outcomeDetail) = AuditStatus.Of(t.GetAwaiter().GetResult());
                if (outcome is "valid" or "fraud" or "inconclusive")
                {
                    metrics.Audited(outcome);
                }

                receipts.SetAudit(receiptId, outcome, outcomeDetail, final: true);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion,
            TaskScheduler.Default);

        metrics.Completed(Operation(request.Kind), request.Model.Name, time.GetElapsedTime(started), firstToken, receipt.Message.Timings.PromptTokens, receipt.Message.OutputTokenCount, null);
        return new PoIPInfo(
            receiptId,
            receipt.Message.RequestId.ToString(),
            receipt.Message.NodeId.ToString(),
            receipt.Message.ModelId.ToString(),
            receipt.Message.Price.ToString(),
            answer.Request.Message.PriceCap.ToString(),
            request.Seed,
            request.PromptFormat,
            answer.Attempts,
            audit,
            detail);
    }

    private ApiError Failure(Exception ex, CompletionRequest request, long started)
    {
        metrics.Completed(Operation(request.Kind), request.Model.Name, time.GetElapsedTime(started), null, 0, 0, ex.GetType().Name);
        if (ex is NodeFailedException)
        {
            Log.CompletionFailed(logger, ex.Message);
            metrics.Rejected("no_node");
            return new ApiError(503, ex.Message, null, "no_node_available", "server_error");
        }

        if (ex is TimeoutException)
        {
            // A dependency the gateway waits on (the chain confirming the escrow, a DHT lookup) is slow: transient, the
            // caller may retry after Retry-After. Seen as HTTP 500 "The chain did not confirm within 00:00:15" under
            // 64 clients on the DHT + chain wiring (poip soak).
            Log.CompletionFailed(logger, ex.Message);
            metrics.Rejected("dependency_timeout");
            return new ApiError(503, "A service the gateway depends on did not answer in time; retry later: " + ex.Message, null, "dependency_timeout", "server_error");
        }

        Log.CompletionFault(logger, ex);
        return new ApiError(500, "The gateway failed to complete the request: " + ex.Message, null, "internal_error", "server_error");
    }

    private AskOptions ToAsk(CompletionRequest request) =>
        new(request.Model.Id, request.Sampling, request.Seed, request.MaxTokens, options.MaxPricePerToken.Multiply((ulong)request.MaxTokens));

    private static string FinishReason(ClientAnswer answer, StopFilter filter) =>
        filter.Stopped ? "stop" : answer.Receipt.Message.StopReason is StopReason.MaxTokens or StopReason.ContextFull ? "length" : "stop";

    private static Usage UsageOf(ClientAnswer answer) => new(answer.Receipt.Message.Timings.PromptTokens, answer.Receipt.Message.OutputTokenCount);

    private static string Operation(CompletionKind kind) => kind == CompletionKind.Chat ? "chat" : "text_completion";

    private static string Id(CompletionKind kind, string requestId) => (kind == CompletionKind.Chat ? "chatcmpl-" : "cmpl-") + requestId;

    private long Created() => time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// Reads the body into a buffer rented from the shared pool (the caller returns it), refusing it past
    /// <see cref="PoIPGatewayOptions.MaxRequestBodyBytes"/>. On an error nothing is rented.
    /// </summary>
    private async Task<(byte[]? Rented, int Length, ApiError? Error)> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        int limit = options.MaxRequestBodyBytes;
        if (request.ContentLength > limit)
        {
            return (null, 0, TooLarge(limit));
        }

        // One byte over the declared length (or a small start) so that the end is seen without growing.
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min((request.ContentLength ?? 4096) + 1, limit + 1L));
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return (null, 0, TooLarge(limit));
                    }

                    byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, limit + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await request.Body.ReadAsync(buffer.AsMemory(length), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    break;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        if (length > limit)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return (null, 0, TooLarge(limit));
        }

        if (length == 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return (null, 0, new ApiError(400, "The body is empty; a JSON object is expected.", null, "invalid_json"));
        }

        return (buffer, length, null);
    }

    private Task WriteErrorAsync(HttpContext context, ApiError error) => WriteErrorCoreAsync(context, error, options.RetryAfterSeconds);

    private static ApiError TooLarge(int limit) => new(413, $"The body is larger than {limit} bytes.", null, "request_too_large");

    internal static async Task WriteErrorCoreAsync(HttpContext context, ApiError error, int retryAfterSeconds)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = error.Status;
        context.Response.ContentType = "application/json";
        if (error.Status is 429 or 503)
        {
            context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        try
        {
            await context.Response.Body.WriteAsync(CompletionJson.Error(error), context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The caller is gone.
        }
    }
}
