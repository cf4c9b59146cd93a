namespace PoIP.Core.Errors;

/// <summary>
/// Base of every fault PoIP raises. Expected outcomes (a rejected proof, insufficient stake) are
/// result types, never exceptions; an exception means misuse, bad input or a fault.
/// </summary>
public class PoIPException : Exception
{
    /// <summary>Creates the exception with a stable machine-readable code.</summary>
    public PoIPException(string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>A stable, machine-readable code such as <c>decode.oversize</c>.</summary>
    public string Code { get; }
}
