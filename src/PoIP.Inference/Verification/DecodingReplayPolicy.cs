namespace PoIP.Inference.Verification;

/// <summary>When <see cref="ReexecutionVerifier"/> replays the node's decoding step by step after its teacher-forced check.</summary>
public enum DecodingReplayPolicy
{
    /// <summary>Never: the teacher-forced check decides alone, slack included (engines without <see cref="Core.Engine.IDecodingReplay"/>).</summary>
    Never = 0,

    /// <summary>
    /// When the teacher-forced check found a sampling or activation mismatch, or accepted a position only
    /// through the slack: the replay decides. A sampling mismatch that cannot be replayed is
    /// inconclusive, never fraud; an activation mismatch that cannot be replayed stands.
    /// </summary>
    WhenDisputed = 1,

    /// <summary>After every teacher-forced check that ended valid or in a sampling or activation mismatch (measurement and tests).</summary>
    Always = 2,

    /// <summary>
    /// No teacher-forced prefill where the engine can replay the receipt: the replay alone judges the
    /// activations and every token (exactly, on a bit-exact identity), so a receipt costs one replay instead
    /// of a prefill plus, when disputed, a replay; the verdicts are those of <see cref="Always"/>. Falls back
    /// to <see cref="WhenDisputed"/> where the replay is impossible or fails (docs/proofs.md §9b).
    /// </summary>
    ReplayOnly = 3,
}
