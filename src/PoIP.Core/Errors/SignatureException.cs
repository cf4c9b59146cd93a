namespace PoIP.Core.Errors;

/// <summary>A signed envelope did not verify: wrong signature, key, domain or payload type.</summary>
public sealed class SignatureException : PoIPException
{
    /// <summary>Creates the exception.</summary>
    public SignatureException(string domain, string detail)
        : base("signature.invalid", $"Signature check failed for domain '{domain}': {detail}")
    {
        Domain = domain;
    }

    /// <summary>The domain the envelope was checked under.</summary>
    public string Domain { get; }
}
