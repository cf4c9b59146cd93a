using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;

namespace PoIP.Hosting.Validation;

/// <summary>What a validator did with a transaction record it saw in the DHT.</summary>
/// <param name="Request">The request the records are about.</param>
/// <param name="Node">The node concerned.</param>
/// <param name="Receipt">The receipt drawn over (default for an equivocation).</param>
/// <param name="Ticket">The verifiable audit draw over the receipt (null for an equivocation).</param>
/// <param name="Equivocation">True when the node signed two different receipts for the request and the evidence was submitted.</param>
/// <param name="Slash">The ledger's answer to the equivocation evidence (null otherwise).</param>
public sealed record DhtRecordAudit(RequestId Request, PeerId Node, ReceiptId Receipt, AuditSelectionTicket? Ticket, bool Equivocation, EconomicResult? Slash);
