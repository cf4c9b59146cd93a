using PoIP.Core.Errors;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>A PoIP role refused to start (below minimum stake, failing known-answer test, missing service).</summary>
public sealed class PoIPStartupException : PoIPException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">Stable code, e.g. <c>node.below_minimum_stake</c>.</param>
    /// <param name="message">What is wrong and how to fix it.</param>
    /// <param name="innerException">The cause, if any.</param>
    public PoIPStartupException(string code, string message, Exception? innerException = null)
        : base(code, message, innerException)
    {
    }
}
