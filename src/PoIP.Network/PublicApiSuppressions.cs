using System.Diagnostics.CodeAnalysis;

// RS0027 asks that an overload with optional parameters have the most parameters of its overloads; these
// are System.IO.Stream overrides, whose signatures (and the optional token) the base class fixes.
[assembly: SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "Stream override.", Scope = "member", Target = "~M:PoIP.Network.Libp2pStream.ReadAsync(System.Memory{System.Byte},System.Threading.CancellationToken)~System.Threading.Tasks.ValueTask{System.Int32}")]
[assembly: SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "Stream override.", Scope = "member", Target = "~M:PoIP.Network.Libp2pStream.WriteAsync(System.ReadOnlyMemory{System.Byte},System.Threading.CancellationToken)~System.Threading.Tasks.ValueTask")]
