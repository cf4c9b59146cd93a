using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Hosting.Client;

namespace PoIP.Hosting.Tests;

public sealed class StakeCacheTests
{
    private static readonly PeerId Node = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)21, 32).ToArray()).PeerId;

    [Fact]
    public async Task GetAsync_WithinDuration_ReadsTheLedgerOnceAndReusesIt()
    {
        var clock = new FakeTimeProvider();
        var ledger = CountingStakes.Create();
        var cache = new StakeCache(ledger, clock, TimeSpan.FromSeconds(5));

        var first = await cache.GetAsync(Node, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(4));
        var second = await cache.GetAsync(Node, CancellationToken.None);

        Assert.Equal(1, CountingStakes.Reads(ledger));
        Assert.Same(first, second);

        clock.Advance(TimeSpan.FromSeconds(2));
        var third = await cache.GetAsync(Node, CancellationToken.None);
        Assert.Equal(2, CountingStakes.Reads(ledger));
        Assert.Equal(TokenAmount.FromTokens(2), third.Bonded); // the ledger's newer answer
    }

    [Fact]
    public async Task GetAsync_ZeroDuration_ReadsEveryTime()
    {
        var ledger = CountingStakes.Create();
        var cache = new StakeCache(ledger, new FakeTimeProvider(), TimeSpan.Zero);
        await cache.GetAsync(Node, CancellationToken.None);
        await cache.GetAsync(Node, CancellationToken.None);
        Assert.Equal(2, CountingStakes.Reads(ledger));
    }

    /// <summary>An <see cref="IStakeManager"/> that answers stake reads only (bonded = number of reads so far) and counts them.</summary>
    public class CountingStakes : DispatchProxy
    {
        private int _reads;

        public static IStakeManager Create() => Create<IStakeManager, CountingStakes>();

        public static int Reads(IStakeManager proxy) => ((CountingStakes)(object)proxy)._reads;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name != nameof(IStakeManager.GetStakeAsync))
            {
                throw new NotSupportedException(targetMethod?.Name);
            }

            int reads = Interlocked.Increment(ref _reads);
            return Task.FromResult(new StakeInfo((PeerId)args![0]!, TokenAmount.FromTokens((ulong)reads), TokenAmount.Zero, TokenAmount.Zero));
        }
    }
}
