namespace PoIP.Core.Errors;

/// <summary>An inference engine refused a request or failed. The engine keeps serving other requests unless <see cref="IsFatal"/>.</summary>
public sealed class EngineException : PoIPException
{
    /// <summary>Creates the exception; <paramref name="code"/> is e.g. <c>engine.prompt_too_long</c>.</summary>
    public EngineException(string code, string message, bool isFatal = false, Exception? innerException = null)
        : base(code, message, innerException)
    {
        IsFatal = isFatal;
    }

    /// <summary>True when the engine can no longer serve (e.g. the native library failed to load).</summary>
    public bool IsFatal { get; }
}
