using PoIP.Core.Errors;

namespace PoIP.Node.Hosts;

/// <summary>The host lab could not be built or run (not root, no <c>ip</c>, a namespace command failed). Code <c>hosts.*</c>.</summary>
internal sealed class HostLabException(string message, string code = "hosts.failed", Exception? inner = null) : PoIPException(code, message, inner)
{
    /// <summary>The code of "this needs root".</summary>
    public const string NeedsRoot = "hosts.needs_root";
}
