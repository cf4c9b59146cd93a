using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Network.InferProtocol;
using PoIP.TestUtils;

namespace PoIP.Network.Tests.InferProtocol;

public sealed class RequestAdmissionTests : IDisposable
{
    private const string Prompt = "Once upon a time";
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.Generate();
    private readonly FakeTimeProvider _time = new(SampleMessages.Now);
    private readonly InferenceRequest _request;
    private readonly RequestAdmission _admission;

    public RequestAdmissionTests()
    {
        _request = SampleMessages.Request(_client.PeerId, Prompt);
        _admission = new RequestAdmission(
            new AdmissionPolicy { Models = new HashSet<ModelId> { _request.ModelId }, PricePerToken = TokenAmount.FromBaseUnits(1000) },
            _time);
    }

    private byte[] Sign(InferenceRequest request, Ed25519KeyPair? key = null) =>
        SignedMessage.Create(key ?? _client, request).Envelope.Encoded.ToArray();

    [Fact]
    public void Admit_ValidRequest_Accepted()
    {
        var result = _admission.Admit(Sign(_request), "Once upon a time"u8);
        Assert.True(result.IsAccepted, result.Detail);
        Assert.Equal(_client.PeerId, result.Request!.Signer);
    }

    [Fact]
    public void Admit_SameNonceTwice_SecondRefusedAsReplay()
    {
        byte[] signed = Sign(_request);
        Assert.True(_admission.Admit(signed, "Once upon a time"u8).IsAccepted);
        Assert.Equal(AdmissionStatus.ReplayedNonce, _admission.Admit(signed, "Once upon a time"u8).Status);
        Assert.Equal(AdmissionStatus.ReplayedNonce, _admission.Admit(Sign(_request with { Seed = 7 }), "Once upon a time"u8).Status);
    }

    [Fact]
    public void Admit_RefusedRequest_DoesNotBurnNonce()
    {
        Assert.Equal(AdmissionStatus.InputMismatch, _admission.Admit(Sign(_request), "Once upon a tim3"u8).Status);
        Assert.True(_admission.Admit(Sign(_request), "Once upon a time"u8).IsAccepted);
    }

    [Fact]
    public void Admit_ForgedSignature_BadEnvelope()
    {
        byte[] signed = Sign(_request);
        signed[^3] ^= 0x40;
        Assert.Equal(AdmissionStatus.BadEnvelope, _admission.Admit(signed, "Once upon a time"u8).Status);
    }

    [Fact]
    public void Admit_SignedByAnotherKey_SignerMismatch()
    {
        using var mallory = Ed25519KeyPair.Generate();
        Assert.Equal(AdmissionStatus.SignerMismatch, _admission.Admit(Sign(_request, mallory), "Once upon a time"u8).Status);
    }

    [Fact]
    public void Admit_AfterExpiry_Expired()
    {
        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1)); // past the expiry (5 min) and the tolerated skew (5 min)
        Assert.Equal(AdmissionStatus.Expired, _admission.Admit(Sign(_request), "Once upon a time"u8).Status);
    }

    [Fact]
    public void Admit_ExpiryTooFarAhead_Refused() =>
        Assert.Equal(AdmissionStatus.Expired, _admission.Admit(Sign(_request with { ExpiresAt = SampleMessages.Now.AddDays(1) }), "Once upon a time"u8).Status);

    [Fact]
    public void Admit_OtherModel_UnknownModel() =>
        Assert.Equal(AdmissionStatus.UnknownModel, _admission.Admit(Sign(_request with { ModelId = new ModelId(Sha256Digest.Compute("other"u8)) }), "Once upon a time"u8).Status);

    [Fact]
    public void Admit_CapBelowPrice_PriceTooLow() =>
        Assert.Equal(AdmissionStatus.PriceTooLow, _admission.Admit(Sign(_request with { PriceCap = TokenAmount.FromBaseUnits(10) }), "Once upon a time"u8).Status);

    [Fact]
    public void Admit_TooManyTokens_OverLimit() =>
        Assert.Equal(AdmissionStatus.OverLimit, _admission.Admit(Sign(_request with { MaxTokens = 5000, PriceCap = TokenAmount.FromTokens(1) }), "Once upon a time"u8).Status);

    [Fact]
    public void Admit_Garbage_BadEnvelope() =>
        Assert.Equal(AdmissionStatus.BadEnvelope, _admission.Admit(new byte[] { 1, 2, 3 }, "x"u8).Status);

    [Fact]
    public void Admit_NonceMemoryFull_RefusesUntilEntriesExpire()
    {
        var admission = new RequestAdmission(new AdmissionPolicy { Models = new HashSet<ModelId> { _request.ModelId }, MaxRememberedNonces = 2 }, _time);
        Assert.True(admission.Admit(Sign(_request with { Nonce = 1 }), "Once upon a time"u8).IsAccepted);
        Assert.True(admission.Admit(Sign(_request with { Nonce = 2 }), "Once upon a time"u8).IsAccepted);
        Assert.Equal(AdmissionStatus.OverLimit, admission.Admit(Sign(_request with { Nonce = 3 }), "Once upon a time"u8).Status);
        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1)); // expiry plus the tolerated clock skew
        Assert.True(admission.Admit(Sign(_request with { Nonce = 3, ExpiresAt = _time.GetUtcNow().AddMinutes(1) }), "Once upon a time"u8).IsAccepted);
    }

    [Theory]
    [InlineData(-5)]
    [InlineData(5)]
    public void Admit_ClientClockFiveMinutesOff_Accepted(int minutes)
    {
        // The client's clock is off by 5 min: its request's expiry is 5 min later or earlier than an in-sync client's
        // (behind: already "expired" on our clock the moment it arrives, refused before the tolerance).
        var skewed = _request with { ExpiresAt = _request.ExpiresAt.AddMinutes(minutes) };
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_admission.Admit(Sign(skewed), "Once upon a time"u8).IsAccepted);
    }

    [Fact]
    public void Admit_ReplayInsideTheSkewTolerance_StillRefused()
    {
        var signed = Sign(_request);
        Assert.True(_admission.Admit(signed, "Once upon a time"u8).IsAccepted);
        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(30)); // past its expiry, inside the tolerance: the nonce must still be remembered
        Assert.Equal(AdmissionStatus.ReplayedNonce, _admission.Admit(signed, "Once upon a time"u8).Status);
    }

    [Fact]
    public void Admit_BeyondTheSkewTolerance_Expired()
    {
        _time.Advance(TimeSpan.FromMinutes(10)); // expiry (5 min) + tolerance (5 min): exactly at the bound
        Assert.Equal(AdmissionStatus.Expired, _admission.Admit(Sign(_request), "Once upon a time"u8).Status);
    }

    public void Dispose() => _client.Dispose();
}
