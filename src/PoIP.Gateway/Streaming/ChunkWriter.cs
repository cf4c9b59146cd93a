using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using PoIP.Gateway.Requests;
using PoIP.Gateway.Responses;

namespace PoIP.Gateway.Streaming;

/// <summary>
/// Writes one stream's SSE events (<c>data: JSON</c> and the blank line) straight into the response's
/// pipe with one reused <see cref="Utf8JsonWriter"/>; the id and model are encoded once per stream.
/// Nothing is sent until the pipe is flushed.
/// </summary>
internal sealed class ChunkWriter : IDisposable
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly PipeWriter _pipe;
    private readonly Utf8JsonWriter _json;
    private readonly CompletionKind _kind;
    private readonly JsonEncodedText _id;
    private readonly JsonEncodedText _model;
    private readonly long _created;

    public ChunkWriter(PipeWriter pipe, CompletionKind kind, string id, long created, string model)
    {
        _pipe = pipe;
        _json = new Utf8JsonWriter(pipe, CompletionJson.WriterOptions);
        _kind = kind;
        _id = JsonEncodedText.Encode(id);
        _model = JsonEncodedText.Encode(model);
        _created = created;
    }

    /// <summary>Buffers one chunk event.</summary>
    public void Chunk(bool withRole, string? content, string? finishReason, Usage? usage, PoIPInfo? poip)
    {
        _pipe.Write<byte>(DataPrefix);
        _json.Reset(_pipe);
        CompletionJson.WriteChunk(_json, _kind, _id, _created, _model, withRole, content, finishReason, usage, poip);
        _json.Flush();
        _pipe.Write<byte>(EventEnd);
    }

    /// <summary>Buffers a <c>data: {"error": …}</c> event.</summary>
    public void Error(ApiError error)
    {
        _pipe.Write<byte>(DataPrefix);
        _pipe.Write<byte>(CompletionJson.Error(error));
        _pipe.Write<byte>(EventEnd);
    }

    /// <summary>Buffers <c>data: [DONE]</c>.</summary>
    public void End() => _pipe.Write<byte>(Done);

    /// <summary>Releases the JSON writer (nothing is written).</summary>
    public void Dispose() => _json.Dispose();
}
