namespace PoIP.Core.Signing;

/// <summary>
/// What an envelope may carry: the domain string mixed into the signature, the payload type
/// written in the envelope and the size limit of the whole encoded envelope. A signature made
/// under one type never verifies under another.
/// </summary>
/// <param name="Domain">Domain separation string (UTF-8), e.g. <c>poip-inference-request</c>.</param>
/// <param name="PayloadType">Payload type, a multicodec path such as <c>/poip/request/1</c>.</param>
/// <param name="MaxEncodedLength">Largest accepted encoded envelope, in bytes.</param>
public sealed record EnvelopeType(string Domain, string PayloadType, int MaxEncodedLength)
{
    /// <summary>A client's inference request.</summary>
    public static EnvelopeType InferenceRequest { get; } = new("poip-inference-request", "/poip/request/1", 8 * 1024);

    /// <summary>A node's inference receipt (carries the activation commitment).</summary>
    public static EnvelopeType InferenceReceipt { get; } = new("poip-inference-receipt", "/poip/receipt/1", 256 * 1024);

    /// <summary>A transaction record put into the DHT.</summary>
    public static EnvelopeType TransactionRecord { get; } = new("poip-transaction-record", "/poip/record/1", 600 * 1024);

    /// <summary>A node's capability record put into the DHT (what it serves, at what price, how fast).</summary>
    public static EnvelopeType CapabilityRecord { get; } = new("poip-capability-record", "/poip/capability/1", 2 * 1024);

    /// <summary>A validator's verdict.</summary>
    public static EnvelopeType Verdict { get; } = new("poip-verdict", "/poip/verdict/1", 8 * 1024);

    /// <summary>An appeal against a convicted fraud case (validator accountability).</summary>
    public static EnvelopeType Appeal { get; } = new("poip-appeal", "/poip/appeal/1", 1024);

    /// <summary>Evidence submitted for slashing.</summary>
    public static EnvelopeType Evidence { get; } = new("poip-evidence", "/poip/evidence/1", 1300 * 1024);
}
