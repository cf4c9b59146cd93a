using System.Collections.Concurrent;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Util;
using PoIP.Core.Identity;

namespace PoIP.Economics.Evm;

/// <summary>
/// Which chain account acts for a peer id, and the reverse, for parties this process holds no key
/// of: read from the contract's <c>IdentityBound</c> events at least
/// <see cref="EvmStakeManagerOptions.ConfirmationDepth"/> blocks deep (a binding a reorg may still
/// drop is not used), each checked off chain (the peer id's Ed25519 signature over chain id,
/// contract, account and deadline; the contract cannot check it). The first valid binding of a peer
/// id wins. Found bindings are remembered; a peer not bound yet is asked again next time.
/// </summary>
internal sealed class EvmIdentities(EvmChain chain, EvmAccounts accounts, int confirmationDepth, Func<PeerId, string, ulong, byte[], bool> isValid)
{
    private readonly ConcurrentDictionary<PeerId, string> _addresses = new();

    /// <summary>The account acting for <paramref name="peer"/>: from the key ring, else from a confirmed valid binding; null when none.</summary>
    public async Task<string?> AddressOfAsync(PeerId peer, CancellationToken cancellationToken)
    {
        if (accounts.AddressOf(peer) is { } own)
        {
            return own;
        }

        if (_addresses.TryGetValue(peer, out var known))
        {
            return known;
        }

        byte[] bytes = peer.ToArray();
        if (bytes.Length == 0)
        {
            return null;
        }

        var bound = await BindingsAsync(null, "0x" + Convert.ToHexStringLower(Sha3Keccack.Current.CalculateHash(bytes)), cancellationToken).ConfigureAwait(false);
        foreach (var binding in bound)
        {
            if (PeerId.TryFromBytes(binding.Event.PeerId, out var id) && id == peer && isValid(id, binding.Event.Account, binding.Event.Deadline, binding.Event.Ed25519Signature))
            {
                string address = Nethereum.Util.AddressUtil.Current.ConvertToChecksumAddress(binding.Event.Account);
                _addresses[peer] = address;
                accounts.Remember(address, peer);
                return address;
            }
        }

        return null;
    }

    /// <summary>The peer id <paramref name="address"/> acts for: from the key ring, else from its confirmed valid binding; default when none.</summary>
    public async Task<PeerId> PeerOfAsync(string address, CancellationToken cancellationToken)
    {
        if (accounts.TryGetPeer(address, out var peer))
        {
            return peer;
        }

        if (!EvmAddress.IsValid(address))
        {
            return default;
        }

        var bound = await BindingsAsync("0x" + new string('0', 24) + address[2..].ToLowerInvariant(), null, cancellationToken).ConfigureAwait(false);
        foreach (var binding in bound)
        {
            if (PeerId.TryFromBytes(binding.Event.PeerId, out var id) && isValid(id, binding.Event.Account, binding.Event.Deadline, binding.Event.Ed25519Signature)
                && await AddressOfAsync(id, cancellationToken).ConfigureAwait(false) is { } first && string.Equals(first, address, StringComparison.OrdinalIgnoreCase))
            {
                return id; // only the peer's first valid binding acts for it
            }
        }

        return default;
    }

    /// <summary>IdentityBound logs at least the confirmation depth deep, oldest first, filtered by account topic and/or peer id hash topic (0x hex, null = any).</summary>
    private async Task<List<Nethereum.Contracts.EventLog<IdentityBoundEvent>>> BindingsAsync(string? accountTopic, string? peerTopic, CancellationToken cancellationToken)
    {
        var head = await chain.ReadAsync(() => chain.Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync(), cancellationToken).ConfigureAwait(false);
        var confirmed = head.Value - confirmationDepth;
        if (confirmed < 0)
        {
            return [];
        }

        var handler = chain.Web3.Eth.GetEvent<IdentityBoundEvent>(chain.Contract);
        var input = new NewFilterInput
        {
            Address = [chain.Contract],
            FromBlock = BlockParameter.CreateEarliest(),
            ToBlock = new BlockParameter(new Nethereum.Hex.HexTypes.HexBigInteger(confirmed)),
            Topics = [handler.EventABI.Sha3Signature.StartsWith("0x", StringComparison.Ordinal) ? handler.EventABI.Sha3Signature : "0x" + handler.EventABI.Sha3Signature, accountTopic, peerTopic],
        };
        var logs = await chain.ReadAsync(() => handler.GetAllChangesAsync(input), cancellationToken).ConfigureAwait(false);
        return [.. logs.OrderBy(l => l.Log.BlockNumber.Value).ThenBy(l => l.Log.LogIndex.Value)];
    }
}
