namespace PoIP.Economics.Reputation;

/// <summary>What a node did that changes its reputation.</summary>
public enum ReputationEvent
{
    /// <summary>It served a request and the client accepted the receipt.</summary>
    RequestCompleted = 1,

    /// <summary>A validator re-executed one of its receipts and found it valid.</summary>
    AuditPassed = 2,

    /// <summary>A fraud verdict against it was proven.</summary>
    FraudProven = 3,

    /// <summary>It did not answer in time.</summary>
    Timeout = 4,

    /// <summary>It answered a known-answer challenge wrongly (weighs as proven fraud: its answer differs from what its claimed engine produces).</summary>
    ChallengeFailed = 5,
}
