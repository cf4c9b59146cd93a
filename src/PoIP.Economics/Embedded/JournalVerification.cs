namespace PoIP.Economics.Embedded;

/// <summary>The result of replaying the journal into a fresh ledger and comparing every state table.</summary>
/// <param name="Matches">True when every table equals its replayed copy.</param>
/// <param name="Operations">Journal entries replayed.</param>
/// <param name="Difference">The first difference found, or empty.</param>
public sealed record JournalVerification(bool Matches, long Operations, string Difference);
