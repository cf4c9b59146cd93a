using System.Buffers;
using System.Text;
using PoIP.Core.Encoding;
using PoIP.Core.Errors;

namespace PoIP.Network.Internal;

/// <summary>Minimal protobuf reader over a bounded span (wire types 0 and 2; 1 and 5 skipped).</summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _type;
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> data, string type)
    {
        _data = data;
        _type = type;
        _pos = 0;
    }

    public bool TryReadTag(out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (_pos >= _data.Length)
        {
            return false;
        }

        ulong tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field <= 0 || tag >> 3 > int.MaxValue)
        {
            throw Errors.Decode(_type, DecodeErrorKind.Malformed, "bad field number");
        }

        return true;
    }

    public ulong ReadVarint()
    {
        var status = UnsignedVarint.TryRead(_data[_pos..], out ulong value, out int read);
        if (status != UnsignedVarint.ReadStatus.Ok)
        {
            // protobuf varints may be non-minimal in theory; libp2p peers write minimal ones.
            throw Errors.Decode(_type, status == UnsignedVarint.ReadStatus.NeedMoreData ? DecodeErrorKind.Truncated : DecodeErrorKind.Malformed, "bad varint");
        }

        _pos += read;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(int maxLength)
    {
        ulong length = ReadVarint();
        if (length > (ulong)maxLength)
        {
            throw Errors.Decode(_type, DecodeErrorKind.Oversize, $"field of {length} bytes exceeds {maxLength}");
        }

        if ((ulong)(_data.Length - _pos) < length)
        {
            throw Errors.Decode(_type, DecodeErrorKind.Truncated, "field runs past the end");
        }

        var slice = _data.Slice(_pos, (int)length);
        _pos += (int)length;
        return slice;
    }

    public string ReadString(int maxLength)
    {
        var bytes = ReadBytes(maxLength);
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Errors.Decode(_type, DecodeErrorKind.Malformed, "string is not UTF-8");
        }
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0:
                ReadVarint();
                break;
            case 1:
                Advance(8);
                break;
            case 2:
                ReadBytes(int.MaxValue);
                break;
            case 5:
                Advance(4);
                break;
            default:
                throw Errors.Decode(_type, DecodeErrorKind.Malformed, $"unsupported wire type {wireType}");
        }
    }

    private void Advance(int n)
    {
        if (_data.Length - _pos < n)
        {
            throw Errors.Decode(_type, DecodeErrorKind.Truncated, "field runs past the end");
        }

        _pos += n;
    }

    public static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>Minimal protobuf writer.</summary>
internal sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteRawVarint(((ulong)field << 3) | 2);
        WriteRawVarint((ulong)value.Length);
        _buffer.Write(value);
    }

    public void WriteString(int field, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        WriteBytes(field, bytes);
    }

    public void WriteRawVarint(ulong value)
    {
        var span = _buffer.GetSpan(UnsignedVarint.MaxLength);
        _buffer.Advance(UnsignedVarint.Write(span, value));
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
