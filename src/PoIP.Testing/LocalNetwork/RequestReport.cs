namespace PoIP.Testing.LocalNetwork;

/// <summary>One request of a local-network run.</summary>
/// <param name="Index">Request number.</param>
/// <param name="Node">Name of the node that answered.</param>
/// <param name="Text">The answer.</param>
/// <param name="Audited">Selected by the validator's draw.</param>
/// <param name="Verdict">Verdict outcome when audited.</param>
/// <param name="Detail">Verdict detail.</param>
/// <param name="Elapsed">Wall time of the request (generation + audit).</param>
/// <param name="FailedAttempts">Earlier attempts on other nodes and why they failed.</param>
public sealed record RequestReport(int Index, string Node, string Text, bool Audited, string Verdict, string Detail, TimeSpan Elapsed, IReadOnlyList<string> FailedAttempts);
