using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Protocol;
using PoIP.Network.AuditProtocol;

namespace PoIP.Hosting.Client;

/// <summary>An answer with everything needed to check and pay for it.</summary>
/// <param name="Text">The generated text.</param>
/// <param name="OutputTokens">The generated token ids.</param>
/// <param name="Node">The node that answered.</param>
/// <param name="Request">The signed request that was answered.</param>
/// <param name="Receipt">The node's signed, client-checked receipt.</param>
/// <param name="Attempts">Nodes tried (1 when the first answered).</param>
/// <param name="Audit">The validator's reply, when one was asked.</param>
/// <param name="FailedAttempts">Why each earlier attempt failed (node and reason).</param>
/// <param name="AuditError">Why the validator could not be asked (the answer stands, its audit is pending); null otherwise.</param>
/// <param name="Recorded">What the transaction ledger said to the client's own record (null when no ledger is configured).</param>
public sealed record ClientAnswer(
    string Text,
    IReadOnlyList<int> OutputTokens,
    PeerId Node,
    SignedMessage<InferenceRequest> Request,
    SignedMessage<InferenceReceipt> Receipt,
    int Attempts,
    AuditReply? Audit,
    IReadOnlyList<string> FailedAttempts,
    string? AuditError = null,
    LedgerPutResult? Recorded = null);
