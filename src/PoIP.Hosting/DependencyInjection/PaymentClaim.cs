using PoIP.Core.Hashing;
using PoIP.Core.Protocol;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>A node's claim on one escrow: the client's signed request, the node's signed receipt, and when to claim.</summary>
internal sealed record PaymentClaim(SignedMessage<InferenceRequest> Request, SignedMessage<InferenceReceipt> Receipt, DateTimeOffset DueAt)
{
    public RequestId RequestId => new(Request.Hash);
}
