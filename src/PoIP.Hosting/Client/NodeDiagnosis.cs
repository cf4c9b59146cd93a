using PoIP.Core.Engine;
using PoIP.Core.Identity;

namespace PoIP.Hosting.Client;

/// <summary>What a network diagnosis of one node found (<see cref="PoIPClient.DiagnoseAsync(PoIP.Network.Addressing.Multiaddr, PoIP.Core.Money.TokenAmount, CancellationToken)"/>).</summary>
/// <param name="Node">The node.</param>
/// <param name="At">When the diagnosis ended.</param>
/// <param name="KnownAnswerPassed">True when every known-answer challenge the node answered (at least one; one it refused, e.g. over its token limit, is named in the detail) came back with exactly the expected tokens; false when one did not (the node is routed around); null when none could be checked (unreachable, refused, or not serving stories260K).</param>
/// <param name="Detail">What was checked, or what differed.</param>
/// <param name="Engine">The engine identity the node's receipts claim (null when none came back).</param>
/// <param name="TimeToFirstToken">The first challenge's time to first token (the speed probe).</param>
/// <param name="TokensPerSecond">Decode speed over the challenges (tokens after the first ÷ time after the first), null when not measured.</param>
/// <param name="Challenges">Challenges answered.</param>
public sealed record NodeDiagnosis(PeerId Node, DateTimeOffset At, bool? KnownAnswerPassed, string Detail, EngineIdentity? Engine, TimeSpan? TimeToFirstToken, double? TokensPerSecond, int Challenges);
