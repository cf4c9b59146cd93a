using PoIP.Core.Money;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.Client;

/// <summary>A node a directory knows of, with what it advertises (null when not advertised).</summary>
/// <param name="Address">Its multiaddr, with the /p2p/ component.</param>
/// <param name="PricePerToken">Its advertised price per generated token.</param>
/// <param name="TokensPerSecond">Its advertised (diagnosed) decode speed.</param>
/// <param name="KnownAnswerPassed">Whether its last advertised known-answer test passed.</param>
public sealed record NodeListing(Multiaddr Address, TokenAmount? PricePerToken = null, double? TokensPerSecond = null, bool? KnownAnswerPassed = null);
