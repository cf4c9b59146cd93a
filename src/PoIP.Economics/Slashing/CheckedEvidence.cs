using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;

namespace PoIP.Economics.Slashing;

/// <summary>Evidence that passed every check: who is accused, for which request, and its one-use key.</summary>
/// <param name="Kind">Fraud or equivocation.</param>
/// <param name="Accused">The node to slash.</param>
/// <param name="Request">The request the offence concerns.</param>
/// <param name="Key">The one-use key (SHA-256 over a domain tag and the offence's identity).</param>
/// <param name="Validator">The validator that signed the verdict (fraud only).</param>
internal sealed record CheckedEvidence(EvidenceKind Kind, PeerId Accused, RequestId Request, byte[] Key, PeerId Validator);
