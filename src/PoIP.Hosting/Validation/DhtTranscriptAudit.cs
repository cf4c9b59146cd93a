using PoIP.Core.Hashing;
using PoIP.Core.Identity;

namespace PoIP.Hosting.Validation;

/// <summary>The end of the transcript fetch for one receipt drawn from the DHT.</summary>
/// <param name="Request">The request the receipt answers.</param>
/// <param name="Node">The node that signed the receipt.</param>
/// <param name="Receipt">The receipt drawn.</param>
/// <param name="Status">Audited, or withheld past the window.</param>
/// <param name="Outcome">The audit (with its verdict and whether the node was slashed) when audited.</param>
/// <param name="Refusals">Transcripts refused before use (forged or mismatched), and from whom, in order.</param>
public sealed record DhtTranscriptAudit(RequestId Request, PeerId Node, ReceiptId Receipt, DhtTranscriptStatus Status, AuditOutcome? Outcome, IReadOnlyList<string> Refusals);
