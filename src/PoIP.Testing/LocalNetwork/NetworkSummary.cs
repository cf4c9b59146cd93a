using PoIP.Core.Economics;

namespace PoIP.Testing.LocalNetwork;

/// <summary>The end of a local-network run.</summary>
/// <param name="Nodes">Per-node standing.</param>
/// <param name="Requests">Requests run.</param>
/// <param name="Audited">Requests audited.</param>
/// <param name="Settled">Escrows paid to nodes.</param>
/// <param name="Refunded">Escrows returned to the client.</param>
/// <param name="Totals">The ledger's totals (conservation check).</param>
/// <param name="JournalMatchesTables">The ledger rebuilt from its journal equals its tables.</param>
/// <param name="FirstFraudDetectedAfter">Requests until the first fraud verdict (0 when none).</param>
/// <param name="Elapsed">Wall time of the requests.</param>
/// <param name="AbandonedAttempts">Attempts that escrowed a cap but produced no receipt (node failed mid-way); refunded, never paid.</param>
/// <param name="FailedAttempts">Why each failed attempt failed.</param>
/// <param name="FirstFraudSlashedAfter">Request wall time from the start until the first fraud verdict reached the client, the cheater already slashed (zero when none).</param>
public sealed record NetworkSummary(IReadOnlyList<NodeReport> Nodes, int Requests, int Audited, int Settled, int Refunded, EconomicTotals Totals, bool JournalMatchesTables, int FirstFraudDetectedAfter, TimeSpan Elapsed, int AbandonedAttempts, IReadOnlyList<string> FailedAttempts, TimeSpan FirstFraudSlashedAfter);
