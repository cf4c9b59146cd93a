using System.Reflection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded;
using PoIP.Hosting.DependencyInjection;
using PoIP.Testing.Economics;

namespace PoIP.Hosting.Tests;

/// <summary>The node's payment claims on a real embedded ledger: retried per item, stored, resumed after a restart.</summary>
public sealed class PaymentClaimsTests : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "poip-claims-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));
    private readonly Ed25519KeyPair _node = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.Generate();
    private readonly EmbeddedStakeManager _ledger;

    public PaymentClaimsTests()
    {
        Directory.CreateDirectory(_directory);
        _ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = Path.Combine(_directory, "ledger.db"), TimeProvider = _clock, SynchronousFull = false });
    }

    /// <summary>Regression: one ledger error used to end the claim loop for the node's life. Now only that claim waits and retries; the others are paid.</summary>
    [Fact]
    public async Task Claims_LedgerFailsForOneSettlement_ThatClaimRetriedOthersPaid()
    {
        await FundAsync();
        var first = await EscrowAsync(1);
        var second = await EscrowAsync(2);
        var flaky = FlakyStakes.Create(_ledger, failures: 1);
        var runtime = new PoIPRuntime();
        var paid = Counter(runtime, out var paidTwice);
        var rescheduled = new TaskCompletionSource<RequestId>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var claims = new PaymentClaims(flaky, _clock, Window, new PaymentClaimStore(ClaimsDirectory), runtime, NullLogger.Instance);
        claims.Rescheduled += (_, request) => rescheduled.TrySetResult(request);

        claims.Add(first.Request, first.Receipt);
        claims.Add(second.Request, second.Receipt);
        Assert.Equal(2, Directory.GetFiles(ClaimsDirectory, "*.claim").Length);
        _clock.Advance(Window + TimeSpan.FromSeconds(1));

        var retried = await rescheduled.Task.WaitAsync(Wait);
        Assert.Contains(retried, new[] { new RequestId(first.Request.Hash), new RequestId(second.Request.Hash) }); // that settlement hit the fault
        Assert.Equal(1, await paid.Task.WaitAsync(Wait)); // the second was still paid
        Assert.Equal(EscrowState.Open, (await _ledger.GetEscrowAsync(retried))!.State);

        _clock.Advance(PaymentClaims.MaxBackoff);
        Assert.Equal(2, await paidTwice.Task.WaitAsync(Wait));
        Assert.Equal(EscrowState.Settled, (await _ledger.GetEscrowAsync(retried))!.State);
        Assert.Equal(0, claims.PendingCount);
        Assert.Empty(Directory.GetFiles(ClaimsDirectory, "*.claim"));
        Assert.True((await _ledger.GetTotalsAsync()).IsConserved);
    }

    /// <summary>Claims due together are asked together: on a chain each waits for its block, and one at a time settled at most one per block.</summary>
    [Fact]
    public async Task Claims_ThreeDueAtOnce_AskedConcurrently()
    {
        await FundAsync();
        var served = new[] { await EscrowAsync(4), await EscrowAsync(5), await EscrowAsync(6) };
        var gated = GatedStakes.Create(_ledger, concurrent: 3);
        var runtime = new PoIPRuntime();
        int paid = 0;
        var allPaid = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        runtime.PaymentClaimed += (_, applied) =>
        {
            if (applied && Interlocked.Increment(ref paid) == 3)
            {
                allPaid.TrySetResult();
            }
        };
        await using var claims = new PaymentClaims(gated, _clock, Window, new PaymentClaimStore(ClaimsDirectory), runtime, NullLogger.Instance);
        claims.Rescheduled += (_, request) => allPaid.TrySetException(new InvalidOperationException($"claim {request} was retried: the settlements did not run at once"));
        foreach (var (request, receipt) in served)
        {
            claims.Add(request, receipt);
        }

        _clock.Advance(Window + TimeSpan.FromSeconds(1));
        await allPaid.Task.WaitAsync(Wait); // each settlement is held until all three are in flight
        foreach (var (request, _) in served)
        {
            Assert.Equal(EscrowState.Settled, (await _ledger.GetEscrowAsync(new RequestId(request.Hash)))!.State);
        }

        Assert.Equal(0, claims.PendingCount);
    }

    /// <summary>A node that stops before the window passed claims after its restart, from the stored claim; a damaged file is skipped.</summary>
    [Fact]
    public async Task Claims_NodeRestartsBeforeTheWindow_NextInstanceClaimsFromTheStore()
    {
        await FundAsync();
        var served = await EscrowAsync(3);
        await using (var before = new PaymentClaims(_ledger, _clock, Window, new PaymentClaimStore(ClaimsDirectory), new PoIPRuntime(), NullLogger.Instance))
        {
            before.Add(served.Request, served.Receipt);
        }

        File.WriteAllBytes(Path.Combine(ClaimsDirectory, new string('a', 64) + ".claim"), [1, 2, 3]);
        _clock.Advance(Window + TimeSpan.FromSeconds(1));
        Assert.Equal(EscrowState.Open, (await _ledger.GetEscrowAsync(new RequestId(served.Request.Hash)))!.State); // nobody claimed meanwhile

        var runtime = new PoIPRuntime();
        var paid = Counter(runtime, out _);
        await using var after = new PaymentClaims(_ledger, _clock, Window, new PaymentClaimStore(ClaimsDirectory), runtime, NullLogger.Instance);

        Assert.Equal(1, await paid.Task.WaitAsync(Wait));
        var escrow = (await _ledger.GetEscrowAsync(new RequestId(served.Request.Hash)))!;
        Assert.Equal((EscrowState.Settled, served.Receipt.Message.Price), (escrow.State, escrow.Price));
        Assert.Equal(1, runtime.PaymentsClaimed);
    }

    public void Dispose()
    {
        _ledger.Dispose();
        _node.Dispose();
        _client.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string ClaimsDirectory => Path.Combine(_directory, "claims");

    /// <summary>Completes the first task after the first paid claim, the second after the second.</summary>
    private static TaskCompletionSource<int> Counter(PoIPRuntime runtime, out TaskCompletionSource<int> second)
    {
        var first = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        int count = 0;
        runtime.PaymentClaimed += (_, applied) =>
        {
            Assert.True(applied);
            int now = Interlocked.Increment(ref count);
            (now == 1 ? first : next).TrySetResult(now);
        };
        second = next;
        return first;
    }

    private async Task FundAsync()
    {
        Assert.True((await _ledger.DepositAsync(OperationId.New(), _node.PeerId, TokenAmount.FromTokens(100))).IsApplied);
        Assert.True((await _ledger.StakeAsync(OperationId.New(), _node.PeerId, TokenAmount.FromTokens(100))).IsApplied);
        Assert.True((await _ledger.DepositAsync(OperationId.New(), _client.PeerId, TokenAmount.FromTokens(100))).IsApplied);
    }

    private async Task<(SignedMessage<InferenceRequest> Request, SignedMessage<InferenceReceipt> Receipt)> EscrowAsync(ulong nonce)
    {
        var request = EvidenceFactory.Request(_client, nonce, TokenAmount.FromTokens(10));
        Assert.True((await _ledger.OpenEscrowAsync(OperationId.New(), new RequestId(request.Hash), _client.PeerId, _node.PeerId, TokenAmount.FromTokens(10))).IsApplied);
        return (request, EvidenceFactory.Receipt(_node, request, TokenAmount.FromTokens(3)));
    }

    /// <summary>The real ledger behind a proxy: every call goes through except the settlements, which <see cref="SettleAsync"/> handles.</summary>
    public abstract class SettlementProxy : DispatchProxy
    {
        private IStakeManager _inner = null!;

        protected static IStakeManager Wrap<TProxy>(IStakeManager inner, Action<TProxy> configure)
            where TProxy : SettlementProxy
        {
            var proxy = Create<IStakeManager, TProxy>();
            var typed = (TProxy)(object)proxy;
            typed._inner = inner;
            configure(typed);
            return proxy;
        }

        /// <summary>The settlement as the real ledger makes it.</summary>
        protected Task<EconomicResult> SettleOnLedgerAsync(MethodInfo settle, object?[]? args) => (Task<EconomicResult>)Forward(settle, args)!;

        protected abstract Task<EconomicResult> SettleAsync(MethodInfo settle, object?[]? args);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod!.Name == nameof(IStakeManager.SettleEscrowAsync) ? SettleAsync(targetMethod, args) : Forward(targetMethod, args);

        private object? Forward(MethodInfo method, object?[]? args)
        {
            try
            {
                return method.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }

    /// <summary>The real ledger, except that each settlement is held until <c>concurrent</c> settlements are in flight (at most 20 s).</summary>
    public class GatedStakes : SettlementProxy
    {
        private readonly TaskCompletionSource _allInFlight = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _needed;
        private int _inFlight;

        public static IStakeManager Create(IStakeManager inner, int concurrent) => Wrap<GatedStakes>(inner, g => g._needed = concurrent);

        protected override async Task<EconomicResult> SettleAsync(MethodInfo settle, object?[]? args)
        {
            if (Interlocked.Increment(ref _inFlight) >= _needed)
            {
                _allInFlight.TrySetResult();
            }

            await _allInFlight.Task.WaitAsync(TimeSpan.FromSeconds(20));
            return await SettleOnLedgerAsync(settle, args);
        }
    }

    /// <summary>The real ledger, except that its first <c>failures</c> settlements throw the way a locked or broken database does.</summary>
    public class FlakyStakes : SettlementProxy
    {
        private int _failures;

        public static IStakeManager Create(IStakeManager inner, int failures) => Wrap<FlakyStakes>(inner, f => f._failures = failures);

        protected override Task<EconomicResult> SettleAsync(MethodInfo settle, object?[]? args) =>
            Interlocked.Decrement(ref _failures) >= 0
                ? Task.FromException<EconomicResult>(new SqliteException("database is locked", 5))
                : SettleOnLedgerAsync(settle, args);
    }
}
