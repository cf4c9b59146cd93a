using Microsoft.Extensions.Logging;
using PoIP.Core.Engine;

namespace PoIP.Inference.Llama;

/// <summary>Log messages of the llama.cpp engine (event ids 2000-2099 of PoIP.Inference).</summary>
internal static partial class Log
{
    [LoggerMessage(2000, LogLevel.Information, "llama.cpp engine loaded {ModelPath} ({ModelId}, {Layers} layers x {Embedding}, vocabulary {Vocabulary}) as {Identity} with {Sequences} sequences of {Context} tokens")]
    public static partial void EngineLoaded(ILogger logger, string modelPath, string modelId, int layers, int embedding, int vocabulary, string identity, int sequences, int context);

    [LoggerMessage(2001, LogLevel.Warning, "Request refused: all {Sequences} sequences busy and {Queued} requests waiting")]
    public static partial void Busy(ILogger logger, int sequences, int queued);

    [LoggerMessage(2002, LogLevel.Debug, "Generation of {Tokens} tokens after a prompt of {PromptTokens} ended ({Stop}): prefill {PrefillMs:F1} ms, decode {DecodeTokensPerSecond:F1} tok/s")]
    public static partial void Generated(ILogger logger, int tokens, int promptTokens, StopReason stop, double prefillMs, double decodeTokensPerSecond);

    [LoggerMessage(2003, LogLevel.Debug, "Generation ended early after {Tokens} tokens (cancelled, failed or abandoned by the consumer)")]
    public static partial void GenerationAbandoned(ILogger logger, int tokens);

    [LoggerMessage(2004, LogLevel.Debug, "Teacher-forced {PromptTokens} prompt + {OutputTokens} output tokens in {Milliseconds:F1} ms")]
    public static partial void TeacherForced(ILogger logger, int promptTokens, int outputTokens, double milliseconds);

    [LoggerMessage(2007, LogLevel.Debug, "Replayed the decoding of {PromptTokens} prompt + {OutputTokens} output tokens in {Milliseconds:F1} ms")]
    public static partial void DecodingReplayed(ILogger logger, int promptTokens, int outputTokens, double milliseconds);

    [LoggerMessage(2006, LogLevel.Information, "llama.cpp engine disposed")]
    public static partial void EngineDisposed(ILogger logger);
}
