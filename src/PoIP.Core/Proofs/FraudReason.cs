namespace PoIP.Core.Proofs;

/// <summary>Why a receipt was judged fraudulent (or could not be judged). Codes are stable on the wire.</summary>
public enum FraudReason
{
    /// <summary>No fraud.</summary>
    None = 0,

    /// <summary>The receipt's input root does not match the signed request.</summary>
    InputMismatch = 1,

    /// <summary>The output tokens do not hash to the receipt's output root.</summary>
    OutputMismatch = 2,

    /// <summary>The activations do not match the commitment (other model, quantisation or prompt).</summary>
    ActivationMismatch = 3,

    /// <summary>A claimed token is not what the sampler picks from the verifier's logits.</summary>
    SamplingMismatch = 4,

    /// <summary>Generation ended dishonestly (early, late, or with a false stop reason).</summary>
    TerminationMismatch = 5,

    /// <summary>The commitment is malformed or does not cover the output.</summary>
    MalformedCommitment = 6,

    /// <summary>The receipt answers a different request (replay).</summary>
    RequestMismatch = 7,

    /// <summary>The receipt names another model or engine than the request allows.</summary>
    ModelMismatch = 8,

    /// <summary>A signature is invalid.</summary>
    BadSignature = 9,
}
