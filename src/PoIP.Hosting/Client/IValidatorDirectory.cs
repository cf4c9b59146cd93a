using PoIP.Core.Hashing;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.Client;

/// <summary>Where a client learns which validators re-execute a model (used when no validator address is configured).</summary>
public interface IValidatorDirectory
{
    /// <summary>Full multiaddrs (with <c>/p2p/</c>) of validators of <paramref name="model"/> (may be empty; never null).</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<IReadOnlyList<Multiaddr>> FindValidatorsAsync(ModelId model, CancellationToken cancellationToken = default);
}
