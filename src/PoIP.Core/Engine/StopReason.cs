namespace PoIP.Core.Engine;

/// <summary>Why generation ended.</summary>
public enum StopReason
{
    /// <summary>Not ended (or unknown).</summary>
    None = 0,

    /// <summary>The model produced its end-of-sequence token.</summary>
    EndOfSequence = 1,

    /// <summary>The output text ended with a stop sequence.</summary>
    StopSequence = 2,

    /// <summary>The request's token limit was reached.</summary>
    MaxTokens = 3,

    /// <summary>The context window is full.</summary>
    ContextFull = 4,
}
