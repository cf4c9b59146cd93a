namespace PoIP.Testing.Verification;

/// <summary>The attacks of the detection matrix (docs/proofs.md lists what catches each).</summary>
public enum ProofAttack
{
    /// <summary>Tokens and commitment from another model, claimed as the requested one.</summary>
    OtherModel,

    /// <summary>Tokens and commitment from a cheaper quantisation of the requested model.</summary>
    CheaperQuantisation,

    /// <summary>Generation from the prompt with one token changed.</summary>
    PromptChangedOneToken,

    /// <summary>The receipt's input root does not match the signed request.</summary>
    InputRootMismatch,

    /// <summary>The first output token replaced; commitment recomputed honestly by prefill.</summary>
    OutputChangedStart,

    /// <summary>A middle output token replaced; commitment recomputed honestly by prefill.</summary>
    OutputChangedMiddle,

    /// <summary>The last output token replaced; commitment recomputed honestly by prefill.</summary>
    OutputChangedEnd,

    /// <summary>The last quarter of the output dropped, stop reason kept; commitment recomputed.</summary>
    TruncatedOutput,

    /// <summary>Tokens appended after the real end; commitment recomputed.</summary>
    ExtendedOutput,

    /// <summary>Sampled with another seed than the request's.</summary>
    OtherSeed,

    /// <summary>Sampled with another temperature than the request's.</summary>
    OtherTemperature,

    /// <summary>TOPLOC's hole: tokens decoded by a cheap small model, commitment computed honestly by one prefill of the requested model.</summary>
    CheapModelDecode,

    /// <summary>A valid receipt presented for another request.</summary>
    ReplayedReceipt,

    /// <summary>Tokens and commitment from the nearest cheaper quantisation of the requested weights (F16 served as Q8_0).</summary>
    AdjacentQuantisation,

    /// <summary>Generated with another KV-cache type (Q8_0 with flash attention, or F32 where a Q8_0 cache is impossible) than the engine identity claims.</summary>
    KvCacheChanged,

    /// <summary>Generated from the prompt with its first quarter (after BOS) cut off, to save prefill; claimed as the whole prompt.</summary>
    PromptTruncatedFront,

    /// <summary>The request's stop sequences ignored: generation runs on past the stop (claimed with the stop reason it then reached).</summary>
    StopSequenceIgnored,

    /// <summary>The output cut at half and claimed as ended by a stop sequence; commitment recomputed.</summary>
    StopSequenceForged,
}
