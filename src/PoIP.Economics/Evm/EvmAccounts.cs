using System.Collections.Concurrent;
using Nethereum.Signer;
using PoIP.Core.Identity;

namespace PoIP.Economics.Evm;

/// <summary>
/// The chain accounts (secp256k1 keys) this process acts with, each bound to the libp2p peer id it
/// acts for. A party's manager normally holds only its own; a test or a local development chain may
/// hold everyone's. Thread-safe.
/// </summary>
public sealed class EvmAccounts
{
    private readonly ConcurrentDictionary<PeerId, EthECKey> _keys = new();
    private readonly ConcurrentDictionary<string, PeerId> _peers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A new random secp256k1 private key (hex, 0x-prefixed).</summary>
    public static string NewPrivateKey() => EthECKey.GenerateKey().GetPrivateKey();

    /// <summary>The address of a private key.</summary>
    /// <exception cref="ArgumentException">Not a 32-byte hex private key.</exception>
    public static string AddressOf(string privateKey) => Key(privateKey).GetPublicAddress();

    /// <summary>Acts for <paramref name="peer"/> with <paramref name="privateKey"/> (hex); returns the account's address.</summary>
    /// <exception cref="ArgumentException">Not a 32-byte hex private key, or the peer already has another account here.</exception>
    public string Add(PeerId peer, string privateKey)
    {
        var key = Key(privateKey);
        string address = key.GetPublicAddress();
        var existing = _keys.GetOrAdd(peer, key);
        if (!string.Equals(existing.GetPublicAddress(), address, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Peer {peer} already acts with account {existing.GetPublicAddress()}.", nameof(privateKey));
        }

        _peers[address] = peer;
        return address;
    }

    /// <summary>The address this process acts with for <paramref name="peer"/>, or null.</summary>
    public string? AddressOf(PeerId peer) => _keys.TryGetValue(peer, out var key) ? key.GetPublicAddress() : null;

    internal bool TryGetKey(PeerId peer, out EthECKey key) => _keys.TryGetValue(peer, out key!);

    internal bool TryGetPeer(string address, out PeerId peer) => _peers.TryGetValue(address, out peer);

    internal void Remember(string address, PeerId peer) => _peers.TryAdd(address, peer);

    private static EthECKey Key(string privateKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(privateKey);
        string hex = privateKey.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? privateKey[2..] : privateKey;
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
        {
            throw new ArgumentException("A private key is 32 bytes of hex.", nameof(privateKey));
        }

        return new EthECKey(hex);
    }
}
