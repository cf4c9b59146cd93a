namespace PoIP.Hosting.DependencyInjection;

/// <summary>What the known-answer gate decided before a node served.</summary>
/// <param name="MayServe">True when the node may serve.</param>
/// <param name="Ran">True when the known-answer test ran (its outcome is in <paramref name="Detail"/>).</param>
/// <param name="Detail">One line: the test's summary, or why it did not run.</param>
public sealed record KnownAnswerGateReport(bool MayServe, bool Ran, string Detail);
