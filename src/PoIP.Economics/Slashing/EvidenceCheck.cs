namespace PoIP.Economics.Slashing;

/// <summary>The outcome of checking evidence: the checked evidence, or why it was refused.</summary>
internal readonly record struct EvidenceCheck(CheckedEvidence? Evidence, string Problem)
{
    public static EvidenceCheck Fail(string problem) => new(null, problem);
}
