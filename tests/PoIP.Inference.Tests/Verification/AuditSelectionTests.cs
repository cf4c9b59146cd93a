using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;

namespace PoIP.Inference.Tests.Verification;

public sealed class AuditSelectionTests
{
    private static Ed25519KeyPair Key(byte b) => Ed25519KeyPair.FromSeed(Enumerable.Repeat(b, 32).Select((x, i) => (byte)(x + i)).ToArray());

    private static ReceiptId Receipt(int i) => new(Sha256Digest.Compute(BitConverter.GetBytes(i)));

    [Fact]
    public void FromRatio_ExactThresholds()
    {
        Assert.Equal(UInt128.One << 62, AuditSelectionProbability.FromRatio(1, 4).Threshold);
        Assert.Equal(UInt128.One << 64, AuditSelectionProbability.FromRatio(7, 7).Threshold);
        Assert.Equal(UInt128.Zero, AuditSelectionProbability.FromRatio(0, 5).Threshold);
        Assert.Equal(((UInt128.One << 64) - 1) / 3, AuditSelectionProbability.FromRatio(1, 3).Threshold);
        Assert.Equal(UInt128.One << 61, AuditSelectionProbability.FromDouble(0.125).Threshold);
        Assert.Throws<ArgumentOutOfRangeException>(() => AuditSelectionProbability.FromDouble(1.5));
    }

    [Fact]
    public void Selects_ProbabilityOneAndZero_AlwaysAndNever()
    {
        Assert.True(AuditSelectionProbability.FromRatio(1, 1).Selects(ulong.MaxValue));
        Assert.False(AuditSelectionProbability.FromRatio(0, 1).Selects(0));
    }

    [Fact]
    public void Draw_SameKeyAndReceipt_IsDeterministic()
    {
        using var key = Key(1);
        var p = AuditSelectionProbability.FromDouble(0.5);
        var a = AuditSelection.Draw(key, Receipt(1), p);
        var b = AuditSelection.Draw(key, Receipt(1), p);
        Assert.Equal(a.Signature.ToArray(), b.Signature.ToArray());
        Assert.Equal(a.Selected, b.Selected);
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(1, 2)]
    [InlineData(1, 100)]
    public void Draw_ManyReceipts_RateCloseToP(ulong numerator, ulong denominator)
    {
        // Fixed keys and receipts: the outcome is deterministic; the bound is ~6 standard deviations.
        const int perKey = 1000;
        var p = AuditSelectionProbability.FromRatio(numerator, denominator);
        int selected = 0, total = 0;
        for (byte k = 1; k <= 4; k++)
        {
            using var key = Key(k);
            for (int i = 0; i < perKey; i++, total++)
            {
                var ticket = AuditSelection.Draw(key, Receipt(i), p);
                Assert.True(AuditSelection.Verify(ticket));
                selected += ticket.Selected ? 1 : 0;
            }
        }

        double rate = selected / (double)total, expected = p.Value;
        double sigma = Math.Sqrt(expected * (1 - expected) / total);
        Assert.InRange(rate, expected - (6 * sigma), expected + (6 * sigma));
    }

    [Fact]
    public void Verify_OtherKeysSignature_Fails()
    {
        using var validator = Key(1);
        using var forger = Key(2);
        var p = AuditSelectionProbability.FromRatio(1, 1);
        var forged = AuditSelection.Draw(forger, Receipt(3), p);
        Assert.False(AuditSelection.Verify(validator.PublicKey, Receipt(3), forged.Signature.Span, p, out bool selected));
        Assert.False(selected);
        Assert.False(AuditSelection.Verify(forged with { Validator = validator.PublicKey }));
    }

    [Fact]
    public void Verify_SignatureForOtherReceiptOrTampered_Fails()
    {
        using var validator = Key(1);
        var p = AuditSelectionProbability.FromRatio(1, 2);
        var ticket = AuditSelection.Draw(validator, Receipt(4), p);
        Assert.False(AuditSelection.Verify(ticket with { ReceiptId = Receipt(5) }));
        byte[] tampered = ticket.Signature.ToArray();
        tampered[10] ^= 1;
        Assert.False(AuditSelection.Verify(ticket with { Signature = tampered }));
        Assert.False(AuditSelection.Verify(ticket with { Selected = !ticket.Selected }));
        Assert.False(AuditSelection.Verify(validator.PublicKey, Receipt(4), ticket.Signature.Span[..63], p, out _));
    }

    [Fact]
    public void Draw_SignsTheDomainSeparatedMessage()
    {
        using var validator = Key(1);
        var ticket = AuditSelection.Draw(validator, Receipt(6), AuditSelectionProbability.FromRatio(1, 2));
        Assert.False(validator.PublicKey.Verify(Receipt(6).Digest.ToArray(), ticket.Signature.Span));
        Assert.True(validator.PublicKey.Verify(AuditSelection.SigningMessage(Receipt(6)), ticket.Signature.Span));
        Assert.True(AuditSelection.SigningMessage(Receipt(6)).AsSpan().StartsWith("poip/audit-selection/v1\0"u8));
    }
}
