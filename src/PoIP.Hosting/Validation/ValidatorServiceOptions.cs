using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;

namespace PoIP.Hosting.Validation;

/// <summary>What a validator needs.</summary>
public sealed class ValidatorServiceOptions
{
    /// <summary>The validator's identity: signs audit draws, verdicts and evidence.</summary>
    public required Ed25519KeyPair Key { get; init; }

    /// <summary>Re-executes receipts (e.g. <c>ReexecutionVerifier</c> over the standard engine).</summary>
    public required IProofVerifier Verifier { get; init; }

    /// <summary>Where fraud is slashed and escrows refunded.</summary>
    public required IStakeManager Stakes { get; init; }

    /// <summary>Probability that a receipt is audited.</summary>
    public required AuditSelectionProbability AuditProbability { get; init; }

    /// <summary>Clock for verdict times.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Largest prompt accepted in a submission.</summary>
    public int MaxPromptBytes { get; init; } = 64 * 1024;
}
