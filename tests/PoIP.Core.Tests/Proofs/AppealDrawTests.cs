using FsCheck;
using FsCheck.Fluent;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;

namespace PoIP.Core.Tests.Proofs;

public sealed class AppealDrawTests
{
    private static readonly PeerId[] Pool = Enumerable.Range(1, 12).Select(i =>
    {
        using var key = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)i, 32).ToArray());
        return key.PeerId;
    }).ToArray();

    private static readonly ReceiptId Receipt = new(Sha256Digest.Compute("receipt"u8));

    [Fact]
    public void Draw_AnyOrderOfTheRegistry_SamePanel()
    {
        var property = Prop.ForAll(Gen.Shuffle(Pool).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), (shuffled, t) =>
        {
            var seed = AppealDraw.Seed(Receipt, t, [Sha256Digest.Compute("v1"u8)]);
            return AppealDraw.Draw(seed, shuffled, 3).SequenceEqual(AppealDraw.Draw(seed, Pool, 3));
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property);
    }

    [Fact]
    public void Draw_SizeAboveEligible_ReturnsEveryEligibleOnceAndNoOther()
    {
        var seed = AppealDraw.Seed(Receipt, 5, []);

        var panel = AppealDraw.Draw(seed, Pool.Take(2).Concat(Pool.Take(2)), 5);

        Assert.Equal(2, panel.Count);
        Assert.Equal(Pool.Take(2).OrderBy(p => p.ToString()), panel.OrderBy(p => p.ToString()));
        Assert.Empty(AppealDraw.Draw(seed, [], 3));
    }

    [Fact]
    public void Seed_DependsOnReceiptTimeAndConvictingVerdicts()
    {
        var verdict = Sha256Digest.Compute("v1"u8);
        var baseline = AppealDraw.Seed(Receipt, 5, [verdict]);

        Assert.Equal(baseline, AppealDraw.Seed(Receipt, 5, [verdict]));
        Assert.NotEqual(baseline, AppealDraw.Seed(Receipt, 6, [verdict]));
        Assert.NotEqual(baseline, AppealDraw.Seed(new ReceiptId(Sha256Digest.Compute("other"u8)), 5, [verdict]));
        Assert.NotEqual(baseline, AppealDraw.Seed(Receipt, 5, [verdict, verdict]));

        // Different seeds draw different panels from the same registry (over many seeds, not always the same three).
        int panels = Enumerable.Range(0, 40).Select(t => string.Join(',', AppealDraw.Draw(AppealDraw.Seed(Receipt, t, [verdict]), Pool, 3).Select(p => p.ToString()))).Distinct().Count();
        Assert.True(panels > 20, $"{panels} distinct panels of 40 draws");
    }

    [Fact]
    public void PlantCommitment_SaltOutOfRange_Throws_AndBindsPlanterAndReceipt()
    {
        byte[] salt = new byte[PlantCommitment.MinSaltLength];

        Assert.Throws<ArgumentException>(() => PlantCommitment.Compute(Pool[0], Receipt, new byte[PlantCommitment.MinSaltLength - 1]));
        Assert.Throws<ArgumentException>(() => PlantCommitment.Compute(Pool[0], Receipt, new byte[PlantCommitment.MaxSaltLength + 1]));
        var commitment = PlantCommitment.Compute(Pool[0], Receipt, salt);
        Assert.NotEqual(commitment, PlantCommitment.Compute(Pool[1], Receipt, salt));
        Assert.NotEqual(commitment, PlantCommitment.Compute(Pool[0], new ReceiptId(Sha256Digest.Compute("other"u8)), salt));
        Assert.NotEqual(commitment, PlantCommitment.Compute(Pool[0], Receipt, new byte[PlantCommitment.MinSaltLength + 1]));
    }
}
