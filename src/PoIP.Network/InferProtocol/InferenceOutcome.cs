using PoIP.Core.Protocol;

namespace PoIP.Network.InferProtocol;

/// <summary>The result of one inference call.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="Detail">Why, when not completed.</param>
/// <param name="RefusalStatus">The node's refusal code (when refused).</param>
/// <param name="Receipt">The verified receipt (when completed; also kept when invalid, as evidence).</param>
/// <param name="OutputTokens">Tokens received.</param>
/// <param name="Text">Concatenated token pieces.</param>
public sealed record InferenceOutcome(
    InferenceOutcomeStatus Status,
    string Detail,
    uint RefusalStatus,
    SignedMessage<InferenceReceipt>? Receipt,
    IReadOnlyList<int> OutputTokens,
    string Text);
