using PoIP.Core.Protocol;

namespace PoIP.Network.InferProtocol;

/// <summary>The outcome of admitting a request: the verified request when accepted, the reason otherwise.</summary>
/// <param name="Status">Accepted or why not.</param>
/// <param name="Request">The verified request (null unless accepted).</param>
/// <param name="Detail">Human-readable detail.</param>
public sealed record AdmissionResult(AdmissionStatus Status, SignedMessage<InferenceRequest>? Request, string Detail)
{
    /// <summary>True when the node should serve the request.</summary>
    public bool IsAccepted => Status == AdmissionStatus.Accepted;

    internal static AdmissionResult Refuse(AdmissionStatus status, string detail) => new(status, null, detail);
}
