namespace PoIP.Network.InferProtocol;

/// <summary>How a call on <c>/poip/infer/1.0.0</c> ended, from the client's side.</summary>
public enum InferenceOutcomeStatus
{
    /// <summary>Tokens and a receipt that passed every client-side check.</summary>
    Completed,

    /// <summary>The node refused the request (see the refusal code).</summary>
    Refused,

    /// <summary>The node sent a receipt that fails a check: do not pay; report it.</summary>
    InvalidReceipt,

    /// <summary>The stream ended or broke before a receipt or refusal (retry elsewhere).</summary>
    Interrupted,
}
