using System.Text;

namespace PoIP.Network.Internal;

/// <summary>
/// Strict UTF-8 for wire text (throws on invalid bytes). The protobuf messages themselves are generated
/// from .proto files (Kademlia/Wire, Protocols/Wire, Noise/Wire); only this decoder remains here.
/// </summary>
internal static class ProtoReader
{
    public static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
