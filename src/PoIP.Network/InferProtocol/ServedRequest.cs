using PoIP.Core.Protocol;

namespace PoIP.Network.InferProtocol;

/// <summary>What the node did with one stream.</summary>
/// <param name="Served">True when a receipt was sent.</param>
/// <param name="RefusalStatus">Refusal code when not served.</param>
/// <param name="Detail">Why not.</param>
/// <param name="Request">The verified request (when admitted).</param>
/// <param name="Receipt">The signed receipt (when served).</param>
/// <param name="OutputTokens">The generated tokens (when served).</param>
public sealed record ServedRequest(
    bool Served,
    uint RefusalStatus,
    string Detail,
    SignedMessage<InferenceRequest>? Request,
    SignedMessage<InferenceReceipt>? Receipt,
    IReadOnlyList<int> OutputTokens)
{
    /// <summary>The prompt bytes the request was served for (when served; what a transcript holds).</summary>
    public ReadOnlyMemory<byte> Prompt { get; init; }

    internal static ServedRequest Refused(uint status, string detail) => new(false, status, detail, null, null, []);
}
