using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Network.AuditProtocol;

namespace PoIP.Hosting.Client;

/// <summary>The audit of a delivered answer, known after the answer (see <see cref="ClientAnswer.Audit"/>).</summary>
/// <param name="Status">Where the audit stands.</param>
/// <param name="Detail">The validator's detail, or why the audit is pending.</param>
/// <param name="Validator">The validator asked (null when none is configured).</param>
/// <param name="Reply">The validator's reply, when it answered.</param>
/// <param name="Verdict">The validator's signed verdict, checked: signed by <paramref name="Validator"/>, about this receipt and node.</param>
public sealed record ClientAudit(ClientAuditStatus Status, string Detail, PeerId? Validator = null, AuditReply? Reply = null, SignedMessage<Verdict>? Verdict = null)
{
    /// <summary>The audit of an answer no validator was asked about.</summary>
    public static ClientAudit NotRequested { get; } = new(ClientAuditStatus.NotRequested, "no validator configured.");

    /// <summary>Whether the audit is over: a verdict, a skip by the lottery, or none asked (not <see cref="ClientAuditStatus.Pending"/>).</summary>
    public bool IsFinal => Status != ClientAuditStatus.Pending;
}
