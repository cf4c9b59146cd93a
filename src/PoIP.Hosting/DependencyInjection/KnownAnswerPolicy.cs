namespace PoIP.Hosting.DependencyInjection;

/// <summary>What a node does about the known-answer test (KAT) before it serves.</summary>
public enum KnownAnswerPolicy
{
    /// <summary>
    /// Run the KAT whenever it can (on stories260K with the served engine's numeric settings); when it
    /// cannot (no stories260K file, or a custom engine serving another model) serve, and say so in the
    /// log and in <see cref="PoIPRuntime.KnownAnswer"/>. A KAT that runs and fails always refuses. Default.
    /// </summary>
    IfAvailable,

    /// <summary>Refuse to serve unless the KAT ran and passed.</summary>
    Required,

    /// <summary>Do not run it (tests of other logic only: a node should never skip it).</summary>
    Skip,
}
