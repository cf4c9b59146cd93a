using System.Security.Cryptography;
using System.Text;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;

namespace PoIP.Network.Transactions;

/// <summary>
/// The DHT keys of PoIP's records: <c>/poip/tx/&lt;request id hex&gt;</c> (every transaction record of a request),
/// <c>/poip/cap/&lt;peer id&gt;</c> (a node's capability record) and, for providers, the model's sha2-256 multihash
/// (nodes serving it) or the validator key of the model (validators re-executing it).
/// </summary>
public static class PoIPRecordKeys
{
    /// <summary>The namespace of PoIP's value records (keys <c>/poip/...</c>).</summary>
    public const string Namespace = "poip";

    private const string TransactionPrefix = "/poip/tx/";
    private const string CapabilityPrefix = "/poip/cap/";

    /// <summary>The key of a request's transaction records.</summary>
    public static byte[] Transaction(RequestId request) => Encoding.ASCII.GetBytes(TransactionPrefix + request.Digest.ToString());

    /// <summary>The key of a node's capability record.</summary>
    public static byte[] Capability(PeerId node) => Encoding.ASCII.GetBytes(CapabilityPrefix + node.ToString());

    /// <summary>The provider key of a model: its sha2-256 multihash (<c>0x12 0x20</c> + SHA-256 of the GGUF).</summary>
    public static byte[] Provider(ModelId model) => model.ToMultihash();

    /// <summary>
    /// The provider key under which validators of a model announce themselves: the sha2-256 multihash of
    /// <c>/poip/validators/&lt;model id hex&gt;</c> (a multihash, so standard peers accept it as a CID).
    /// </summary>
    public static byte[] Validators(ModelId model)
    {
        byte[] key = new byte[2 + SHA256.HashSizeInBytes];
        key[0] = 0x12;
        key[1] = SHA256.HashSizeInBytes;
        SHA256.HashData(Encoding.ASCII.GetBytes("/poip/validators/" + model.Digest.ToString()), key.AsSpan(2));
        return key;
    }

    /// <summary>Reads a transaction key.</summary>
    public static bool TryParseTransaction(ReadOnlySpan<byte> key, out RequestId request)
    {
        request = default;
        if (!TryText(key, TransactionPrefix, out string rest) || rest.Length != 64 || rest.Any(char.IsUpper))
        {
            return false;
        }

        if (!Sha256Digest.TryParseHex(rest, out var digest))
        {
            return false;
        }

        request = new RequestId(digest);
        return true;
    }

    /// <summary>Reads a capability key.</summary>
    public static bool TryParseCapability(ReadOnlySpan<byte> key, out PeerId node)
    {
        node = default;
        return TryText(key, CapabilityPrefix, out string rest) && PeerId.TryParse(rest, out node) && node.ToString() == rest;
    }

    private static bool TryText(ReadOnlySpan<byte> key, string prefix, out string rest)
    {
        rest = string.Empty;
        if (key.Length <= prefix.Length || key.Length > 256 || !key.StartsWith(Encoding.ASCII.GetBytes(prefix)))
        {
            return false;
        }

        foreach (byte b in key)
        {
            if (b is < 0x21 or > 0x7e)
            {
                return false;
            }
        }

        rest = Encoding.ASCII.GetString(key[prefix.Length..]);
        return true;
    }
}
