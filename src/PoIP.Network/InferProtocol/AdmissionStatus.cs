namespace PoIP.Network.InferProtocol;

/// <summary>Why a node accepted or refused a request. Codes are stable on the wire.</summary>
public enum AdmissionStatus
{
    /// <summary>Accepted: the node will serve it.</summary>
    Accepted = 0,

    /// <summary>The envelope is malformed, oversize or its signature does not verify.</summary>
    BadEnvelope = 1,

    /// <summary>The envelope's signer is not the request's client id.</summary>
    SignerMismatch = 2,

    /// <summary>The request has expired (or expires too far in the future).</summary>
    Expired = 3,

    /// <summary>The client already used this nonce.</summary>
    ReplayedNonce = 4,

    /// <summary>The node does not serve this model.</summary>
    UnknownModel = 5,

    /// <summary>The price cap is below the node's price for the request.</summary>
    PriceTooLow = 6,

    /// <summary>The prompt does not match the signed input root or length.</summary>
    InputMismatch = 7,

    /// <summary>The request asks for more than the node's limits allow.</summary>
    OverLimit = 8,
}
