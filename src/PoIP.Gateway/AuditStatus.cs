using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;

namespace PoIP.Gateway;

/// <summary>An answer's audit state as the <c>poip</c> object and <c>/v1/receipts</c> report it.</summary>
internal static class AuditStatus
{
    /// <summary>
    /// <c>none</c> (no validator configured), <c>pending</c> (the validator could not be reached; the
    /// answer stands), <c>not_selected</c> (the validator's lottery skipped it), <c>valid</c>,
    /// <c>fraud</c>, <c>inconclusive</c>; and a detail.
    /// </summary>
    public static (string Status, string Detail) Of(ClientAnswer answer)
    {
        if (answer.AuditError is { } error)
        {
            return ("pending", error);
        }

        if (answer.Audit is not { } audit)
        {
            return ("none", string.Empty);
        }

        if (!audit.Selected)
        {
            return ("not_selected", audit.Detail);
        }

        if (audit.VerdictEnvelope.IsEmpty)
        {
            return ("pending", audit.Detail);
        }

        try
        {
            var verdict = SignedMessage.Open<Verdict>(audit.VerdictEnvelope).Message;
            return (verdict.Outcome switch { VerdictOutcome.Valid => "valid", VerdictOutcome.Fraud => "fraud", _ => "inconclusive" }, audit.Detail);
        }
        catch (Core.Errors.PoIPException)
        {
            return ("pending", "the validator's verdict did not verify.");
        }
    }
}
