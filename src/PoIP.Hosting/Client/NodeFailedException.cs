using PoIP.Core.Errors;

namespace PoIP.Hosting.Client;

/// <summary>Every node tried failed, refused or answered with an invalid receipt.</summary>
public sealed class NodeFailedException : PoIPException
{
    /// <summary>Creates the exception.</summary>
    public NodeFailedException(string message, Exception? innerException = null)
        : base("client.no_node_answered", message, innerException)
    {
    }
}
