using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Hosting.DependencyInjection;
using PoIP.Testing.Economics;

namespace PoIP.Hosting.Tests;

/// <summary>The node's transaction-record puts when the DHT holds none of them.</summary>
public sealed class DhtPublisherTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Regression: when every holder refuses a node's records (its per-publisher quota is full, as in the DHT + chain
    /// soak after ~1,024 answers per node), each answer started an 8-minute retry loop, so the node's DHT work grew
    /// with every answer. At most <see cref="DhtPublisher.MaxRecordsInRetry"/> records are retried at once.
    /// </summary>
    [Fact]
    public async Task RecordServed_DhtRefusesEveryRecord_AtMostTheBoundRetried()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var ledger = new RefusingLedger();
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        var publisher = new DhtPublisher(null!, ledger, node, EngineStub.Create(), TokenAmount.ParseTokens("0.001"), null, TimeSpan.FromHours(48), clock, NullLogger.Instance);
        await using (publisher.ConfigureAwait(false))
        {
            int records = DhtPublisher.MaxRecordsInRetry + 36;
            for (ulong i = 1; i <= (ulong)records; i++)
            {
                var request = EvidenceFactory.Request(client, i, TokenAmount.FromTokens(1));
                publisher.RecordServed(request, EvidenceFactory.Receipt(node, request, TokenAmount.ParseTokens("0.01")));
            }

            await ledger.WhenPuts(records).WaitAsync(Wait); // every record is put once
            Assert.Equal(DhtPublisher.MaxRecordsInRetry, publisher.RecordsInRetry);

            clock.Advance(DhtPublisher.FirstRetry);
            await ledger.WhenPuts(records + DhtPublisher.MaxRecordsInRetry).WaitAsync(Wait); // only the bounded ones again
            Assert.Equal(DhtPublisher.MaxRecordsInRetry, publisher.RecordsInRetry);
            Assert.Equal(records + DhtPublisher.MaxRecordsInRetry, ledger.Puts);
        }

        Assert.Equal(0, publisher.RecordsInRetry); // stopping ends the retries
    }

    /// <summary>A DHT whose peers confirm nothing.</summary>
    private sealed class RefusingLedger : ITransactionLedger
    {
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
        private int _puts;

        public int Puts => Volatile.Read(ref _puts);

        public Task WhenPuts(int count)
        {
            lock (_lock)
            {
                if (_puts >= count)
                {
                    return Task.CompletedTask;
                }

                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, reached));
                return reached.Task;
            }
        }

        public Task<LedgerPutResult> PutAsync(SignedMessage<TransactionRecord> record, CancellationToken cancellationToken = default)
        {
            lock (_lock)
            {
                _puts++;
                foreach (var waiter in _waiters.Where(w => _puts >= w.Count).ToList())
                {
                    waiter.Reached.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }

            return Task.FromResult(new LedgerPutResult(LedgerPutStatus.Unconfirmed) { Confirmed = 0, Asked = 4 });
        }

        public Task<IReadOnlyList<SignedMessage<TransactionRecord>>> GetAsync(RequestId requestId, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<SignedMessage<TransactionRecord>>>([]);
    }

    /// <summary>An engine that only names its model and identity (all the publisher reads of it).</summary>
    public class EngineStub : DispatchProxy
    {
        private static readonly ModelDescriptor Model = new(ModelId.Parse(new string('a', 64)), "llama", 32, 8, 1, 64, 1, 2);
        private static readonly EngineIdentity Identity = new("llama.cpp", "test", "cpu", "avx2", false, "f16", 512);

        public static IInferenceEngine Create() => Create<IInferenceEngine, EngineStub>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            "get_Model" => Model,
            "get_Identity" => Identity,
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
