namespace PoIP.Core.Errors;

/// <summary>Bytes from outside (a peer, a file) could not be decoded. Nothing was acted on.</summary>
public sealed class PoIPDecodeException : PoIPException
{
    /// <summary>Creates the exception.</summary>
    public PoIPDecodeException(string typeName, DecodeErrorKind kind, string detail, Exception? innerException = null)
        : base("decode." + kind.ToString().ToLowerInvariant(), $"Cannot decode {typeName}: {detail}", innerException)
    {
        TypeName = typeName;
        Kind = kind;
    }

    /// <summary>The type being decoded.</summary>
    public string TypeName { get; }

    /// <summary>What was wrong.</summary>
    public DecodeErrorKind Kind { get; }
}
