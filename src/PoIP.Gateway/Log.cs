using Microsoft.Extensions.Logging;

namespace PoIP.Gateway;

/// <summary>Log messages of PoIP.Gateway (event ids 8500-8599).</summary>
internal static partial class Log
{
    [LoggerMessage(8500, LogLevel.Warning, "Completion failed: {Detail}")]
    public static partial void CompletionFailed(ILogger logger, string detail);

    [LoggerMessage(8501, LogLevel.Error, "Completion fault")]
    public static partial void CompletionFault(ILogger logger, Exception exception);

    [LoggerMessage(8502, LogLevel.Debug, "Client went away; generation cancelled")]
    public static partial void ClientGone(ILogger logger);

    [LoggerMessage(8503, LogLevel.Warning, "Model {Model} has a chat template no known family matches; chat uses the plain fallback")]
    public static partial void UnknownTemplate(ILogger logger, string model);

    [LoggerMessage(8504, LogLevel.Warning, "Node {Node} failed its known-answer diagnosis and is routed around: {Detail}")]
    public static partial void DiagnosisFailed(ILogger logger, string node, string detail);

    [LoggerMessage(8505, LogLevel.Warning, "Node diagnostics round failed")]
    public static partial void DiagnosisFault(ILogger logger, Exception exception);

    [LoggerMessage(8506, LogLevel.Information, "Diagnosed {Nodes} nodes with known-answer challenges: {Passed} passed, {Failed} failed, {Unchecked} unchecked")]
    public static partial void DiagnosisRound(ILogger logger, int nodes, int passed, int failed, int @unchecked);
}
