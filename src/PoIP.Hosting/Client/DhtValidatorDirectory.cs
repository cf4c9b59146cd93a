using PoIP.Core.Hashing;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;

namespace PoIP.Hosting.Client;

/// <summary>
/// Finds a model's validators in the DHT: the providers of <see cref="PoIPRecordKeys.Validators"/>, which every
/// validator serving the DHT announces for the model its engine re-executes. A provider entry is only a hint: the
/// audit protocol checks that a verdict is signed by the validator asked, and slashing checks its registration.
/// </summary>
internal sealed class DhtValidatorDirectory(IKademliaDht dht, int maxValidators = 20) : IValidatorDirectory
{
    public async Task<IReadOnlyList<Multiaddr>> FindValidatorsAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        var providers = await dht.FindProvidersAsync(PoIPRecordKeys.Validators(model), maxValidators, cancellationToken).ConfigureAwait(false);
        // A stable order (by peer id): the client spreads its audits over them in turn.
        return [.. providers.Where(p => p.Addresses.Count > 0).DistinctBy(p => p.Peer).OrderBy(p => p.Peer.ToString(), StringComparer.Ordinal).Select(p => p.Addresses[0].WithPeerId(p.Peer))];
    }
}
