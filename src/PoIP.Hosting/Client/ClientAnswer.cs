using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Protocol;

namespace PoIP.Hosting.Client;

/// <summary>An answer with everything needed to check and pay for it.</summary>
/// <param name="Text">The generated text.</param>
/// <param name="OutputTokens">The generated token ids.</param>
/// <param name="Node">The node that answered.</param>
/// <param name="Request">The signed request that was answered.</param>
/// <param name="Receipt">The node's signed, client-checked receipt.</param>
/// <param name="Attempts">Nodes tried (1 when the first answered).</param>
/// <param name="FailedAttempts">Why each earlier attempt failed (node and reason).</param>
public sealed record ClientAnswer(
    string Text,
    IReadOnlyList<int> OutputTokens,
    PeerId Node,
    SignedMessage<InferenceRequest> Request,
    SignedMessage<InferenceReceipt> Receipt,
    int Attempts,
    IReadOnlyList<string> FailedAttempts)
{
    /// <summary>
    /// The audit, which runs after the answer was returned: it completes when the validator has judged
    /// the transaction, or with <see cref="ClientAuditStatus.Pending"/> when it could not be reached or
    /// did not answer within <see cref="PoIPClientOptions.AuditTimeout"/>. It never faults and never
    /// takes the answer back; a caller that does not care need not await it.
    /// </summary>
    public Task<ClientAudit> Audit { get; init; } = Task.FromResult(ClientAudit.NotRequested);

    /// <summary>
    /// The audit once decided: when <see cref="Audit"/> ends <see cref="ClientAuditStatus.Pending"/>, the transaction is
    /// handed to the validators again (next validator each time) up to <see cref="PoIPClientOptions.AuditRetries"/> times,
    /// <see cref="PoIPClientOptions.AuditRetryDelay"/> apart and doubling; this completes with the first decided outcome,
    /// or the last pending one. The same as <see cref="Audit"/> when that decided it. Never faults.
    /// </summary>
    public Task<ClientAudit> FinalAudit
    {
        get => _finalAudit ?? Audit;
        init => _finalAudit = value;
    }

    private readonly Task<ClientAudit>? _finalAudit;

    /// <summary>Hedged attempts cancelled because another node's first token came first (never paid; see <see cref="PoIPClientOptions.HedgeAfter"/>).</summary>
    public int HedgesCancelled { get; init; }

    /// <summary>What the transaction ledger said to the client's own record (null when no ledger is configured).</summary>
    public LedgerPutResult? Recorded { get; init; }
}
