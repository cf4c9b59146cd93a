namespace PoIP.Core.Proofs;

/// <summary>What kind of misbehaviour a piece of evidence proves.</summary>
public enum EvidenceKind
{
    /// <summary>A signed fraud verdict over a signed request and receipt.</summary>
    FraudVerdict = 1,

    /// <summary>Two different records signed by one node for one request.</summary>
    Equivocation = 2,
}
