namespace PoIP.Gateway.Responses;

/// <summary>The top-level <c>poip</c> object of a response: what makes the answer verifiable.</summary>
internal sealed record PoIPInfo(
    string ReceiptId,
    string RequestId,
    string NodeId,
    string ModelId,
    string Price,
    string PriceCap,
    ulong Seed,
    string PromptFormat,
    int Attempts,
    string AuditStatus,
    string AuditDetail);
