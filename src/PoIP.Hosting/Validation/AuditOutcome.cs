using PoIP.Core.Proofs;
using PoIP.Core.Protocol;

namespace PoIP.Hosting.Validation;

/// <summary>What a validator did with one submitted transaction.</summary>
/// <param name="Accepted">False when the submission itself was malformed or badly signed.</param>
/// <param name="Ticket">The verifiable audit draw (null when not accepted).</param>
/// <param name="Verdict">The signed verdict when the receipt was selected and judged.</param>
/// <param name="Slashed">True when a fraud verdict slashed the node.</param>
/// <param name="Detail">Human-readable detail.</param>
public sealed record AuditOutcome(bool Accepted, AuditSelectionTicket? Ticket, SignedMessage<Verdict>? Verdict, bool Slashed, string Detail);
