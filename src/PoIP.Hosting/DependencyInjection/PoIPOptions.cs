using PoIP.Core.Identity;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>What every PoIP role needs: its identity. Validated at start.</summary>
public sealed class PoIPOptions
{
    /// <summary>
    /// Identity key file (libp2p private-key encoding, created with mode 0600 when absent).
    /// Ignored when <see cref="Key"/> is set. One of the two is required.
    /// </summary>
    public string? KeyFile { get; set; }

    /// <summary>An identity owned by the caller (not disposed by the host). Takes precedence over <see cref="KeyFile"/>.</summary>
    public Ed25519KeyPair? Key { get; set; }
}
