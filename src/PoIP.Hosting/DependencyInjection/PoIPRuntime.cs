using PoIP.Core.Engine;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// The running parts of a PoIP host, filled in when the host has started (resolve it from the
/// service provider). The host owns them: they are disposed when it stops.
/// </summary>
public sealed class PoIPRuntime
{
    private int _served;
    private int _refused;
    private int _claimed;

    /// <summary>This host's peer id (null before start).</summary>
    public PeerId? PeerId => Key?.PeerId;

    /// <summary>This host's key pair (null before start); the host owns it and never hands it out.</summary>
    internal Ed25519KeyPair? Key { get; set; }

    /// <summary>The started libp2p host (null before start).</summary>
    public Libp2pHost? Host { get; internal set; }

    /// <summary>The engine of a node or validator (null for a client-only host, or before start).</summary>
    public IInferenceEngine? Engine { get; internal set; }

    /// <summary>The started DHT (null without <c>AddDht</c>, or before start).</summary>
    public IKademliaDht? Dht { get; internal set; }

    /// <summary>The transaction ledger on the DHT (null without <c>AddDht</c>, or before start).</summary>
    public ITransactionLedger? TransactionLedger { get; internal set; }

    /// <summary>A validator's reader of the transaction records that reach it in the DHT (null otherwise).</summary>
    public Validation.DhtAuditFeed? DhtAudits { get; internal set; }

    /// <summary>The known-answer gate's decision (null when no node role is configured).</summary>
    public KnownAnswerGateReport? KnownAnswer { get; internal set; }

    /// <summary>Full multiaddrs (with <c>/p2p/&lt;id&gt;</c>) the host listens on.</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses => Host?.ListenAddresses ?? [];

    /// <summary>Requests this node answered with a receipt.</summary>
    public int Served => Volatile.Read(ref _served);

    /// <summary>Requests this node refused (bad signature, replay, price, stake below minimum...).</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Escrows this node settled in its favour after their dispute window (see <see cref="PoIPNodeOptions.ClaimPayments"/>).</summary>
    public int PaymentsClaimed => Volatile.Read(ref _claimed);

    /// <summary>Raised after each payment claim (true when the ledger paid; false when refused, e.g. already refunded for fraud).</summary>
    public event EventHandler<bool>? PaymentClaimed;

    /// <summary>Raised after each request this node answered or refused (the refusal detail, or null when served).</summary>
    public event EventHandler<string?>? RequestHandled;

    /// <summary>The started libp2p host.</summary>
    /// <exception cref="InvalidOperationException">The host has not started.</exception>
    public Libp2pHost RequireHost() => Host ?? throw new InvalidOperationException("The PoIP host has not started yet (start the IHost first).");

    internal void OnClaimed(bool paid)
    {
        if (paid)
        {
            Interlocked.Increment(ref _claimed);
        }

        PaymentClaimed?.Invoke(this, paid);
    }

    internal void OnHandled(bool served, string detail)
    {
        Interlocked.Increment(ref served ? ref _served : ref _refused);
        RequestHandled?.Invoke(this, served ? null : detail);
    }
}
