using PoIP.Hosting.Client;

namespace PoIP.Gateway;

/// <summary>An answer's audit state as the <c>poip</c> object and <c>/v1/receipts</c> report it.</summary>
internal static class AuditStatus
{
    /// <summary>
    /// <c>none</c> (no validator configured), <c>pending</c> (not judged yet, or the validator could not be
    /// reached or did not answer in time; the answer stands), <c>not_selected</c> (the validator's lottery
    /// skipped it), <c>valid</c>, <c>fraud</c>, <c>inconclusive</c>; and a detail.
    /// </summary>
    public static (string Status, string Detail) Of(ClientAudit audit) => (audit.Status switch
    {
        ClientAuditStatus.NotRequested => "none",
        ClientAuditStatus.NotSelected => "not_selected",
        ClientAuditStatus.Valid => "valid",
        ClientAuditStatus.Fraud => "fraud",
        ClientAuditStatus.Inconclusive => "inconclusive",
        _ => "pending",
    }, audit.Status == ClientAuditStatus.NotRequested ? string.Empty : audit.Detail);

    /// <summary>The state now: the audit's outcome if it is over, else <c>pending</c> (it runs after the answer and is not waited for).</summary>
    public static (string Status, string Detail) Now(ClientAnswer answer) =>
        answer.Audit.IsCompletedSuccessfully ? Of(answer.Audit.GetAwaiter().GetResult() /* completed: does not block */) : ("pending", "the audit runs after the answer; see receipt_url for its outcome.");
}
