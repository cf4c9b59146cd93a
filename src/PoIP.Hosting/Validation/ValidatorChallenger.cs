using PoIP.Core.Engine;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Hosting.Client;
using PoIP.Inference.Diagnostics;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.Validation;

/// <summary>
/// A validator's own known-answer challenges: it sends them to a node as ordinary signed, escrowed and
/// paid requests (through its own <see cref="PoIPClient"/>, so they look like any other traffic) and judges
/// every answer itself. The challenges are derived for the model its engine serves by running that engine
/// (<see cref="KnownAnswerTest.DeriveChallengesAsync"/>: binding for a node claiming the same engine identity),
/// after the embedded stories260K cases when the engine serves stories260K (binding for every honest engine).
/// Every answer is re-executed through <see cref="ValidatorService.AuditChallengeAsync"/> (activations always
/// checked, no lottery); a fraud verdict slashes the node as any audit does.
/// </summary>
public sealed class ValidatorChallenger
{
    private readonly PoIPClient _client;
    private readonly ValidatorService _validator;
    private readonly IInferenceEngine _engine;
    private readonly Lazy<Task<IReadOnlyList<KnownAnswerChallenge>>> _challenges;

    /// <summary>Creates the challenger.</summary>
    /// <param name="client">The validator's client (its account pays for the challenges).</param>
    /// <param name="validator">The validator that judges the answers (and slashes on fraud).</param>
    /// <param name="engine">The validator's engine: the model to challenge and the source of derived answers.</param>
    public ValidatorChallenger(PoIPClient client, ValidatorService validator, IInferenceEngine engine)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(engine);
        _client = client;
        _validator = validator;
        _engine = engine;
        _challenges = new(DeriveAsync); // once, on first use (a short generation per challenge)
    }

    /// <summary>Raised for every challenge answer judged (the verdict, and whether the node was slashed).</summary>
    public event EventHandler<AuditOutcome>? Judged;

    /// <summary>Challenges <paramref name="node"/> (which must serve the engine's model) and returns the diagnosis; a node's faults are the diagnosis, never thrown.</summary>
    /// <param name="node">The node's full multiaddr (with <c>/p2p/</c>).</param>
    /// <param name="pricePerToken">Most paid per token for the challenges.</param>
    /// <param name="cancellationToken">Cancels the challenge.</param>
    /// <exception cref="ArgumentException">The address has no peer id.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task<NodeDiagnosis> ChallengeAsync(Multiaddr node, TokenAmount pricePerToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        var challenges = await _challenges.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _client.DiagnoseCoreAsync(node, pricePerToken, challenges, CheckAsync, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(VerdictOutcome Outcome, string Detail)> CheckAsync(VerificationCase answer, CancellationToken cancellationToken)
    {
        var outcome = await _validator.AuditChallengeAsync(answer.Request, answer.Receipt, answer.Prompt, answer.OutputTokens, cancellationToken).ConfigureAwait(false);
        Judged?.Invoke(this, outcome);
        return (outcome.Verdict?.Message.Outcome ?? VerdictOutcome.Inconclusive, outcome.Detail + (outcome.Slashed ? "; slashed" : string.Empty));
    }

    private async Task<IReadOnlyList<KnownAnswerChallenge>> DeriveAsync()
    {
        var derived = await KnownAnswerTest.DeriveChallengesAsync(_engine).ConfigureAwait(false);
        return string.Equals(_engine.Model.Id.ToString(), KnownAnswerTest.ModelSha256, StringComparison.OrdinalIgnoreCase)
            ? [.. KnownAnswerTest.Challenges, .. derived]
            : derived;
    }
}
