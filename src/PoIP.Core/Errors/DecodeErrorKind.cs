namespace PoIP.Core.Errors;

/// <summary>Why bytes could not be decoded.</summary>
public enum DecodeErrorKind
{
    /// <summary>The input is larger than the limit for its type.</summary>
    Oversize,

    /// <summary>The input ended early.</summary>
    Truncated,

    /// <summary>The version field names a version this code does not speak.</summary>
    WrongVersion,

    /// <summary>The bytes are not a well-formed encoding.</summary>
    Malformed,

    /// <summary>The encoding is well formed but a field is missing, too long or out of range.</summary>
    InvalidField,
}
