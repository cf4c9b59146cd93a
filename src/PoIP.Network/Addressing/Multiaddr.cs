using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PoIP.Core.Encoding;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Internal;

namespace PoIP.Network.Addressing;

/// <summary>One protocol and its value inside a <see cref="Multiaddr"/>.</summary>
public readonly record struct MultiaddrComponent
{
    private readonly byte[] _value;

    internal MultiaddrComponent(MultiaddrProtocol protocol, byte[] value)
    {
        Protocol = protocol;
        _value = value;
    }

    /// <summary>The protocol.</summary>
    public MultiaddrProtocol Protocol { get; }

    /// <summary>The binary value (address bytes, port, UTF-8 name or multihash).</summary>
    public ReadOnlySpan<byte> Value => _value;

    internal byte[] RawValue => _value;

    /// <summary>Equality by protocol and bytes.</summary>
    public bool Equals(MultiaddrComponent other) => Protocol == other.Protocol && Value.SequenceEqual(other.Value);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Protocol);
        hash.AddBytes(Value);
        return hash.ToHashCode();
    }
}

/// <summary>
/// A multiaddr (<c>/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...</c>) restricted to the protocols in
/// <see cref="MultiaddrProtocol"/>, in text and binary forms. Decoding is bounded by
/// <see cref="MaxBinaryLength"/>, <see cref="MaxTextLength"/> and <see cref="MaxComponents"/>.
/// Immutable, compared by value.
/// </summary>
public sealed class Multiaddr : IEquatable<Multiaddr>
{
    /// <summary>Longest accepted binary form.</summary>
    public const int MaxBinaryLength = 1024;

    /// <summary>Longest accepted text form.</summary>
    public const int MaxTextLength = 2048;

    /// <summary>Most components in one address.</summary>
    public const int MaxComponents = 16;

    /// <summary>Longest DNS name (RFC 1035).</summary>
    public const int MaxDnsNameLength = 253;

    private const string TypeName = "Multiaddr";
    private readonly MultiaddrComponent[] _components;

    private Multiaddr(MultiaddrComponent[] components) => _components = components;

    /// <summary>The components in order.</summary>
    public IReadOnlyList<MultiaddrComponent> Components => _components;

    /// <summary>The peer id of the trailing <c>/p2p</c> component, if any.</summary>
    public PeerId? PeerId
    {
        get
        {
            foreach (var c in _components)
            {
                if (c.Protocol == MultiaddrProtocol.P2p)
                {
                    return Core.Identity.PeerId.FromBytes(c.Value);
                }
            }

            return null;
        }
    }

    /// <summary>Parses the text form.</summary>
    /// <exception cref="PoIPDecodeException">The text is not a supported multiaddr.</exception>
    public static Multiaddr Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxTextLength)
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.Oversize, $"text longer than {MaxTextLength}");
        }

        if (text.Length == 0 || text[0] != '/')
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.Malformed, "must start with '/'");
        }

        string[] parts = text.Split('/');
        if (parts[^1].Length == 0 && parts.Length > 1)
        {
            parts = parts[..^1]; // one trailing slash is tolerated
        }

        var components = new List<MultiaddrComponent>();
        int i = 1;
        while (i < parts.Length)
        {
            if (components.Count >= MaxComponents)
            {
                throw Errors.Decode(TypeName, DecodeErrorKind.Oversize, $"more than {MaxComponents} components");
            }

            string name = parts[i++];
            if (i >= parts.Length)
            {
                throw Errors.Decode(TypeName, DecodeErrorKind.Truncated, $"'/{name}' has no value");
            }

            string value = parts[i++];
            components.Add(name switch
            {
                "ip4" => new(MultiaddrProtocol.Ip4, ParseIp(value, AddressFamily.InterNetwork)),
                "ip6" => new(MultiaddrProtocol.Ip6, ParseIp(value, AddressFamily.InterNetworkV6)),
                "tcp" => new(MultiaddrProtocol.Tcp, ParsePort(value)),
                "dns4" => new(MultiaddrProtocol.Dns4, ParseDns(value)),
                "dns6" => new(MultiaddrProtocol.Dns6, ParseDns(value)),
                "p2p" or "ipfs" => new(MultiaddrProtocol.P2p, ParsePeer(value)),
                _ => throw Errors.Decode(TypeName, DecodeErrorKind.InvalidField, $"unsupported protocol '{Truncate(name)}'"),
            });
        }

        if (components.Count == 0)
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.Malformed, "no components");
        }

        var result = new Multiaddr([.. components]);
        if (result.BinaryLength() > MaxBinaryLength)
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.Oversize, $"binary form longer than {MaxBinaryLength}");
        }

        return result;
    }

    /// <summary>Parses the text form without throwing.</summary>
    public static bool TryParse(string? text, out Multiaddr? multiaddr)
    {
        multiaddr = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            multiaddr = Parse(text);
            return true;
        }
        catch (PoIPDecodeException)
        {
            return false;
        }
    }

    /// <summary>Reads the binary form.</summary>
    /// <exception cref="PoIPDecodeException">The bytes are not a supported multiaddr.</exception>
    public static Multiaddr FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBinaryLength)
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.Oversize, $"longer than {MaxBinaryLength} bytes");
        }

        if (bytes.IsEmpty)
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.Truncated, "empty");
        }

        var components = new List<MultiaddrComponent>();
        while (!bytes.IsEmpty)
        {
            if (components.Count >= MaxComponents)
            {
                throw Errors.Decode(TypeName, DecodeErrorKind.Oversize, $"more than {MaxComponents} components");
            }

            ulong code = ReadVarint(ref bytes);
            int fixedLength = code switch
            {
                (ulong)MultiaddrProtocol.Ip4 => 4,
                (ulong)MultiaddrProtocol.Tcp => 2,
                (ulong)MultiaddrProtocol.Ip6 => 16,
                (ulong)MultiaddrProtocol.Dns4 or (ulong)MultiaddrProtocol.Dns6 or (ulong)MultiaddrProtocol.P2p => -1,
                _ => throw Errors.Decode(TypeName, DecodeErrorKind.InvalidField, $"unsupported protocol code {code}"),
            };
            int length = fixedLength;
            if (length < 0)
            {
                ulong declared = ReadVarint(ref bytes);
                if (declared > (ulong)bytes.Length)
                {
                    throw Errors.Decode(TypeName, DecodeErrorKind.Truncated, "value runs past the end");
                }

                length = (int)declared;
            }

            if (bytes.Length < length)
            {
                throw Errors.Decode(TypeName, DecodeErrorKind.Truncated, "value runs past the end");
            }

            var value = bytes[..length];
            bytes = bytes[length..];
            var protocol = (MultiaddrProtocol)code;
            switch (protocol)
            {
                case MultiaddrProtocol.Dns4 or MultiaddrProtocol.Dns6:
                    ParseDns(DecodeName(value));
                    break;
                case MultiaddrProtocol.P2p:
                    if (!Core.Identity.PeerId.TryFromBytes(value, out _))
                    {
                        throw Errors.Decode(TypeName, DecodeErrorKind.InvalidField, "p2p value is not a peer id");
                    }

                    break;
            }

            components.Add(new MultiaddrComponent(protocol, value.ToArray()));
        }

        return new Multiaddr([.. components]);
    }

    /// <summary>Reads the binary form without throwing.</summary>
    public static bool TryFromBytes(ReadOnlySpan<byte> bytes, out Multiaddr? multiaddr)
    {
        try
        {
            multiaddr = FromBytes(bytes);
            return true;
        }
        catch (PoIPDecodeException)
        {
            multiaddr = null;
            return false;
        }
    }

    /// <summary>An <c>/ip4|ip6/.../tcp/port</c> address for an endpoint.</summary>
    public static Multiaddr FromEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var ip = address.AddressFamily == AddressFamily.InterNetwork
            ? new MultiaddrComponent(MultiaddrProtocol.Ip4, address.GetAddressBytes())
            : new MultiaddrComponent(MultiaddrProtocol.Ip6, address.GetAddressBytes());
        var port = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(port, (ushort)endPoint.Port);
        return new Multiaddr([ip, new MultiaddrComponent(MultiaddrProtocol.Tcp, port)]);
    }

    /// <summary>This address with <c>/p2p/<paramref name="peerId"/></c> appended (replacing any existing one).</summary>
    public Multiaddr WithPeerId(PeerId peerId)
    {
        var rest = WithoutPeerId()._components;
        return new Multiaddr([.. rest, new MultiaddrComponent(MultiaddrProtocol.P2p, peerId.ToArray())]);
    }

    /// <summary>This address without its <c>/p2p</c> component.</summary>
    public Multiaddr WithoutPeerId() =>
        new([.. _components.Where(c => c.Protocol != MultiaddrProtocol.P2p)]);

    /// <summary>The binary form.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[BinaryLength()];
        int pos = 0;
        foreach (var c in _components)
        {
            pos += UnsignedVarint.Write(bytes.AsSpan(pos), (ulong)c.Protocol);
            if (IsVariable(c.Protocol))
            {
                pos += UnsignedVarint.Write(bytes.AsSpan(pos), (ulong)c.RawValue.Length);
            }

            c.RawValue.CopyTo(bytes, pos);
            pos += c.RawValue.Length;
        }

        return bytes;
    }

    /// <summary>The text form.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var c in _components)
        {
            switch (c.Protocol)
            {
                case MultiaddrProtocol.Ip4:
                    sb.Append("/ip4/").Append(new IPAddress(c.Value).ToString());
                    break;
                case MultiaddrProtocol.Ip6:
                    sb.Append("/ip6/").Append(new IPAddress(c.Value).ToString());
                    break;
                case MultiaddrProtocol.Tcp:
                    sb.Append("/tcp/").Append(BinaryPrimitives.ReadUInt16BigEndian(c.Value).ToString(CultureInfo.InvariantCulture));
                    break;
                case MultiaddrProtocol.Dns4:
                    sb.Append("/dns4/").Append(Encoding.UTF8.GetString(c.Value));
                    break;
                case MultiaddrProtocol.Dns6:
                    sb.Append("/dns6/").Append(Encoding.UTF8.GetString(c.Value));
                    break;
                case MultiaddrProtocol.P2p:
                    sb.Append("/p2p/").Append(Base58Btc.Encode(c.Value));
                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>The host, port and family to dial for a <c>/ip4|ip6|dns4|dns6/.../tcp/port</c> address.</summary>
    internal bool TryGetTcpTarget(out string host, out int port, out AddressFamily family)
    {
        host = string.Empty;
        port = 0;
        family = AddressFamily.Unspecified;
        if (_components.Length < 2 || _components[1].Protocol != MultiaddrProtocol.Tcp)
        {
            return false;
        }

        var first = _components[0];
        port = BinaryPrimitives.ReadUInt16BigEndian(_components[1].Value);
        switch (first.Protocol)
        {
            case MultiaddrProtocol.Ip4:
                family = AddressFamily.InterNetwork;
                host = new IPAddress(first.Value).ToString();
                return true;
            case MultiaddrProtocol.Ip6:
                family = AddressFamily.InterNetworkV6;
                host = new IPAddress(first.Value).ToString();
                return true;
            case MultiaddrProtocol.Dns4:
                family = AddressFamily.InterNetwork;
                host = Encoding.UTF8.GetString(first.Value);
                return true;
            case MultiaddrProtocol.Dns6:
                family = AddressFamily.InterNetworkV6;
                host = Encoding.UTF8.GetString(first.Value);
                return true;
            default:
                return false;
        }
    }

    /// <inheritdoc />
    public bool Equals(Multiaddr? other) => other is not null && _components.AsSpan().SequenceEqual(other._components);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Multiaddr);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var c in _components)
        {
            hash.Add(c);
        }

        return hash.ToHashCode();
    }

    private int BinaryLength()
    {
        int length = 0;
        foreach (var c in _components)
        {
            length += UnsignedVarint.GetLength((ulong)c.Protocol) + c.RawValue.Length;
            if (IsVariable(c.Protocol))
            {
                length += UnsignedVarint.GetLength((ulong)c.RawValue.Length);
            }
        }

        return length;
    }

    private static bool IsVariable(MultiaddrProtocol protocol) =>
        protocol is MultiaddrProtocol.Dns4 or MultiaddrProtocol.Dns6 or MultiaddrProtocol.P2p;

    private static ulong ReadVarint(ref ReadOnlySpan<byte> bytes)
    {
        var status = UnsignedVarint.TryRead(bytes, out ulong value, out int read);
        if (status != UnsignedVarint.ReadStatus.Ok)
        {
            throw Errors.Decode(TypeName, status == UnsignedVarint.ReadStatus.NeedMoreData ? DecodeErrorKind.Truncated : DecodeErrorKind.Malformed, "bad varint");
        }

        bytes = bytes[read..];
        return value;
    }

    private static byte[] ParseIp(string text, AddressFamily family)
    {
        if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != family
            || (family == AddressFamily.InterNetwork && text.Count(ch => ch == '.') != 3)
            || (family == AddressFamily.InterNetworkV6 && (text.Contains('%', StringComparison.Ordinal) || text.Contains('/', StringComparison.Ordinal))))
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.InvalidField, $"'{Truncate(text)}' is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address");
        }

        return address.GetAddressBytes();
    }

    private static byte[] ParsePort(string text)
    {
        if (text.Length is 0 or > 5 || !text.All(char.IsAsciiDigit)
            || !ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.InvalidField, $"'{Truncate(text)}' is not a port");
        }

        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, port);
        return bytes;
    }

    private static byte[] ParseDns(string name)
    {
        if (name.Length is 0 or > MaxDnsNameLength
            || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.' or '_'))
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.InvalidField, $"'{Truncate(name)}' is not a DNS name");
        }

        return Encoding.ASCII.GetBytes(name);
    }

    private static string DecodeName(ReadOnlySpan<byte> value)
    {
        try
        {
            return ProtoReader.Strict.GetString(value);
        }
        catch (DecoderFallbackException)
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.Malformed, "DNS name is not UTF-8");
        }
    }

    private static byte[] ParsePeer(string text)
    {
        if (!Core.Identity.PeerId.TryParse(text, out var peer))
        {
            throw Errors.Decode(TypeName, DecodeErrorKind.InvalidField, $"'{Truncate(text)}' is not a peer id");
        }

        return peer.ToArray();
    }

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "...";
}
