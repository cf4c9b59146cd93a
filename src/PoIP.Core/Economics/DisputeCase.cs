using PoIP.Core.Hashing;
using PoIP.Core.Identity;

namespace PoIP.Core.Economics;

/// <summary>One fraud case (one receipt) and the verdicts counted in it.</summary>
/// <param name="Receipt">The judged receipt.</param>
/// <param name="Accused">The node that signed it.</param>
/// <param name="Request">The request it answers.</param>
/// <param name="Opener">Who opened the case (first fraud verdict's signer, the slash's challenger, or the planter); paid the challenger share.</param>
/// <param name="State">Where the case stands.</param>
/// <param name="FraudVerdicts">Validators whose counted verdict is fraud (first round, then the panel's).</param>
/// <param name="ValidVerdicts">Validators whose counted verdict is valid.</param>
/// <param name="Panel">The appeal panel, empty until an appeal.</param>
/// <param name="DecidedAt">When the first round reached its quorum, or null.</param>
/// <param name="Planted">Whether the receipt was revealed as planted (its right verdict, fraud, is known to the protocol).</param>
public sealed record DisputeCase(
    ReceiptId Receipt,
    PeerId Accused,
    RequestId Request,
    PeerId Opener,
    DisputeState State,
    IReadOnlyList<PeerId> FraudVerdicts,
    IReadOnlyList<PeerId> ValidVerdicts,
    IReadOnlyList<PeerId> Panel,
    DateTimeOffset? DecidedAt,
    bool Planted);
