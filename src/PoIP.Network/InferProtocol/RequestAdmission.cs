using PoIP.Core.Errors;
using PoIP.Core.Protocol;

namespace PoIP.Network.InferProtocol;

/// <summary>
/// The node's gate for <c>/poip/infer/1.0.0</c>: verifies the signed request before anything else
/// (size, domain, signature), then that the signer is the client, the expiry, the nonce (no
/// replays), the model, the price and the limits, and finally recomputes the input Merkle root from
/// the prompt bytes received. Only an accepted request reaches the engine.
/// </summary>
public sealed class RequestAdmission
{
    private readonly AdmissionPolicy _policy;
    private readonly TimeProvider _time;
    private readonly NonceRegistry _nonces;

    /// <summary>Creates the gate.</summary>
    /// <exception cref="ArgumentException">The policy is invalid.</exception>
    public RequestAdmission(AdmissionPolicy policy, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(timeProvider);
        string? problem = policy.Validate();
        if (problem is not null)
        {
            throw new ArgumentException("Invalid admission policy: " + problem, nameof(policy));
        }

        _policy = policy;
        _time = timeProvider;
        _nonces = new NonceRegistry(policy.MaxRememberedNonces);
    }

    /// <summary>Checks a signed request and its prompt. Never throws for bad input.</summary>
    public AdmissionResult Admit(ReadOnlyMemory<byte> signedRequest, ReadOnlySpan<byte> prompt)
    {
        SignedMessage<InferenceRequest> signed;
        try
        {
            signed = SignedMessage.Open<InferenceRequest>(signedRequest);
        }
        catch (PoIPException ex) when (ex is PoIPDecodeException or SignatureException)
        {
            return AdmissionResult.Refuse(AdmissionStatus.BadEnvelope, ex.Message);
        }

        var request = signed.Message;
        if (signed.Signer != request.ClientId)
        {
            return AdmissionResult.Refuse(AdmissionStatus.SignerMismatch, $"signed by {signed.Signer}, claims client {request.ClientId}.");
        }

        // The client's clock may differ from ours by up to MaxClockSkew either way.
        var now = _time.GetUtcNow();
        var skew = _policy.MaxClockSkew;
        if (request.ExpiresAt + skew <= now)
        {
            return AdmissionResult.Refuse(AdmissionStatus.Expired, $"expired at {request.ExpiresAt:O} (clock skew tolerated: {skew}).");
        }

        if (request.ExpiresAt - now > _policy.MaxExpiryHorizon + skew)
        {
            return AdmissionResult.Refuse(AdmissionStatus.Expired, $"expiry more than {_policy.MaxExpiryHorizon} ahead (clock skew tolerated: {skew}).");
        }

        if (!_policy.Models.Contains(request.ModelId))
        {
            return AdmissionResult.Refuse(AdmissionStatus.UnknownModel, $"model {request.ModelId} is not served here.");
        }

        if (request.MaxTokens > _policy.MaxOutputTokens || request.InputLength > _policy.MaxPromptBytes || prompt.Length > _policy.MaxPromptBytes)
        {
            return AdmissionResult.Refuse(AdmissionStatus.OverLimit, $"limits: {_policy.MaxOutputTokens} output tokens, {_policy.MaxPromptBytes} prompt bytes.");
        }

        if (request.PriceCap < _policy.PriceFor(request.MaxTokens))
        {
            return AdmissionResult.Refuse(AdmissionStatus.PriceTooLow, $"cap {request.PriceCap} below {_policy.PriceFor(request.MaxTokens)} for {request.MaxTokens} tokens.");
        }

        if (!request.MatchesInput(prompt))
        {
            return AdmissionResult.Refuse(AdmissionStatus.InputMismatch, "the prompt does not hash to the signed input root.");
        }

        // Last: a request refused for another reason must not burn its nonce.
        if (!_nonces.TryRecord(request.ClientId, request.Nonce, request.ExpiresAt + skew, now, out bool full))
        {
            return full
                ? AdmissionResult.Refuse(AdmissionStatus.OverLimit, "too many live requests remembered; retry later.")
                : AdmissionResult.Refuse(AdmissionStatus.ReplayedNonce, $"nonce {request.Nonce} already used by this client.");
        }

        return new AdmissionResult(AdmissionStatus.Accepted, signed, string.Empty);
    }
}
