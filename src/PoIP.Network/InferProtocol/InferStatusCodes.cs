namespace PoIP.Network.InferProtocol;

/// <summary>Refusal codes on <c>/poip/infer/1.0.0</c> beyond <see cref="AdmissionStatus"/>.</summary>
public static class InferStatusCodes
{
    /// <summary>The engine refused or failed (the node keeps serving).</summary>
    public const uint EngineError = 100;

    /// <summary>The opening frame was malformed.</summary>
    public const uint BadFrame = 101;

    /// <summary>The node may not serve now (e.g. stake below the minimum, failed known-answer test).</summary>
    public const uint NotServing = 102;
}
