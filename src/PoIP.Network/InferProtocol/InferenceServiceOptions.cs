using PoIP.Core.Engine;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;

namespace PoIP.Network.InferProtocol;

/// <summary>What a node needs to serve <c>/poip/infer/1.0.0</c>.</summary>
public sealed class InferenceServiceOptions
{
    /// <summary>The node's identity; signs receipts.</summary>
    public required Ed25519KeyPair NodeKey { get; init; }

    /// <summary>The engine that serves the model.</summary>
    public required IInferenceEngine Engine { get; init; }

    /// <summary>Records the activation commitment during generation.</summary>
    public required ICommitmentScheme Commitments { get; init; }

    /// <summary>What the node accepts.</summary>
    public required AdmissionPolicy Policy { get; init; }

    /// <summary>
    /// Asked before each admitted request: returns null when the node may serve, else why not (e.g.
    /// its stake fell below the minimum after a slash). Null delegate: always serve.
    /// </summary>
    public Func<CancellationToken, ValueTask<string?>>? ServingCheck { get; init; }

    /// <summary>Clock for expiry checks and receipt times.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
