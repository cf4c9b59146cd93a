using Google.Protobuf;
using PoIP.Core.Errors;

namespace PoIP.Core.Protocol;

/// <summary>Protobuf parsing that turns every parser failure into a typed <see cref="PoIPDecodeException"/>.</summary>
internal static class ProtoDecoding
{
    public static T Parse<T>(MessageParser<T> parser, ReadOnlyMemory<byte> bytes, string typeName)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(bytes.Span);
        }
        catch (InvalidProtocolBufferException ex)
        {
            var kind = ex.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase) ? DecodeErrorKind.Truncated : DecodeErrorKind.Malformed;
            throw new PoIPDecodeException(typeName, kind, ex.Message, ex);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException)
        {
            throw new PoIPDecodeException(typeName, DecodeErrorKind.Malformed, ex.Message, ex);
        }
    }
}
