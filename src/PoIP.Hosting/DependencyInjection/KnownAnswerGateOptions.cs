namespace PoIP.Hosting.DependencyInjection;

/// <summary>The known-answer gate a node passes before it serves (<see cref="KnownAnswerPolicy"/>), validated at start.</summary>
public sealed class KnownAnswerGateOptions
{
    /// <summary>What the node does about the known-answer test. Default <see cref="KnownAnswerPolicy.IfAvailable"/>.</summary>
    public KnownAnswerPolicy Policy { get; set; } = KnownAnswerPolicy.IfAvailable;

    /// <summary>
    /// stories260K.gguf for the known-answer test when the llama.cpp engine serves another model (the KAT
    /// runs on it with the served engine's CPU variant, flash attention, KV type and GPU layers). Must exist
    /// when set. Default none.
    /// </summary>
    public string? ModelPath { get; set; }
}
