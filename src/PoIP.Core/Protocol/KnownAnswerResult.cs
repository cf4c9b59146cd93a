namespace PoIP.Core.Protocol;

/// <summary>What a node's last known-answer test said, as it advertises it.</summary>
public enum KnownAnswerResult
{
    /// <summary>Not run (the model has no known answer, or the node skipped it).</summary>
    NotRun = 0,

    /// <summary>Passed: the engine reproduced the reference output.</summary>
    Passed = 1,

    /// <summary>Failed.</summary>
    Failed = 2,
}
