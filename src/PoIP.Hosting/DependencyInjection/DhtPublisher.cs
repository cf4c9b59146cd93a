using Microsoft.Extensions.Logging;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// A node's side of the transaction layer: provides its model (the GGUF's sha2-256 multihash) and puts its signed
/// capability record at start and every half lifetime, with the decode speed measured on the requests it served;
/// puts its transaction record (the signed request and its receipt) after each served request.
/// A put that no peer confirmed (the node cut off from the DHT) is retried: the capability record and provider entry
/// after <see cref="FirstRetry"/>, doubling to at most <see cref="MaxRetry"/> (never later than the half lifetime) until
/// a peer holds them; a transaction record below the ledger's quorum (or failed) the same way, at most
/// <see cref="MaxRecordAttempts"/> times.
/// </summary>
internal sealed class DhtPublisher : IAsyncDisposable
{
    /// <summary>The first wait before a failed put is tried again.</summary>
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between tries of a failed put.</summary>
    public static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(30);

    /// <summary>Most tries of one transaction record's put (about 8 minutes of retries in all).</summary>
    public const int MaxRecordAttempts = 20;

    /// <summary>
    /// Most transaction records in retry at once. A record whose first put is not confirmed while this many are
    /// retrying is not retried (logged): when the holders refuse every record (a publisher over their per-peer quota,
    /// the DHT unreachable for long), each new answer would otherwise start another 8-minute retry loop.
    /// </summary>
    public const int MaxRecordsInRetry = 64;

    private readonly IKademliaDht _dht;
    private readonly ITransactionLedger _ledger;
    private readonly Ed25519KeyPair _key;
    private readonly ModelId _model;
    private readonly EngineIdentity _engine;
    private readonly TokenAmount _price;
    private readonly KnownAnswerResult _knownAnswer;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly HashSet<Task> _pending = [];
    private Task? _loop;
    private ulong _sequence;
    private long _decodeTicks;
    private long _decodedTokens;
    private int _inRetry;

    public DhtPublisher(IKademliaDht dht, ITransactionLedger ledger, Ed25519KeyPair key, IInferenceEngine engine, TokenAmount price, KnownAnswerGateReport? knownAnswer, TimeSpan lifetime, TimeProvider time, ILogger logger)
    {
        _dht = dht;
        _ledger = ledger;
        _key = key;
        _model = engine.Model.Id;
        _engine = engine.Identity;
        _price = price;
        _knownAnswer = knownAnswer is null || !knownAnswer.Ran ? KnownAnswerResult.NotRun : knownAnswer.MayServe ? KnownAnswerResult.Passed : KnownAnswerResult.Failed;
        _lifetime = lifetime;
        _time = time;
        _logger = logger;
    }

    /// <summary>Transaction records whose put is being retried now.</summary>
    public int RecordsInRetry => Volatile.Read(ref _inRetry);

    /// <summary>Capability records put so far (for tests and dashboards).</summary>
    public int CapabilityPuts { get; private set; }

    /// <summary>Provides the model and puts the first capability record, then keeps both fresh until disposed.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        bool held = await PublishAsync(cancellationToken).ConfigureAwait(false);
        _loop = RepublishLoopAsync(held, _stop.Token);
    }

    /// <summary>Puts the node's record of a served request (in the background; the result is logged).</summary>
    public void RecordServed(SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt)
    {
        var timings = receipt.Message.Timings;
        Interlocked.Add(ref _decodeTicks, timings.Decode.Ticks);
        Interlocked.Add(ref _decodedTokens, timings.OutputTokens);
        var record = SignedMessage.Create(_key, new TransactionRecord
        {
            RequestId = new RequestId(request.Hash),
            RequestEnvelope = request.Envelope.Encoded,
            ReceiptEnvelope = receipt.Envelope.Encoded,
            Role = TransactionRole.Node,
            RecordedAt = _time.GetUtcNow(),
        });
        Track(PutRecordAsync(record, _stop.Token));
    }

    /// <summary>Waits for the record puts started so far (tests).</summary>
    public Task DrainAsync()
    {
        lock (_lock)
        {
            return Task.WhenAll([.. _pending]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await DrainAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    /// <summary>Provides and puts the capability record; true when a peer confirmed both.</summary>
    private async Task<bool> PublishAsync(CancellationToken cancellationToken)
    {
        int providers = await _dht.ProvideAsync(PoIPRecordKeys.Provider(_model), cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        _sequence = Math.Max(_sequence + 1, (ulong)now.ToUnixTimeMilliseconds());
        long tokens = Interlocked.Read(ref _decodedTokens), ticks = Interlocked.Read(ref _decodeTicks);
        var capability = SignedMessage.Create(_key, new CapabilityRecord
        {
            NodeId = _key.PeerId,
            ModelId = _model,
            Engine = _engine,
            PricePerToken = _price,
            KnownAnswer = _knownAnswer,
            TokensPerSecond = tokens > 0 && ticks > 0 ? tokens / TimeSpan.FromTicks(ticks).TotalSeconds : 0,
            Sequence = _sequence,
            IssuedAt = now,
            ExpiresAt = now + _lifetime,
        });
        var put = await _dht.PutValueAsync(PoIPRecordKeys.Capability(_key.PeerId), capability.Envelope.Encoded, cancellationToken).ConfigureAwait(false);
        CapabilityPuts++;
        Log.DhtPublished(_logger, _model.ToString()[..16], providers, put.Confirmed, put.Asked);
        return providers > 0 && put.Confirmed > 0;
    }

    private static TimeSpan NextRetry(TimeSpan retry) => retry * 2 > MaxRetry ? MaxRetry : retry * 2;

    private async Task RepublishLoopAsync(bool held, CancellationToken cancellationToken)
    {
        var retry = FirstRetry;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var wait = held || retry > _lifetime / 2 ? _lifetime / 2 : retry;
                retry = held ? FirstRetry : NextRetry(retry);
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                held = await PublishAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                held = false;
                Log.DhtPublishFailed(_logger, ex.Message);
            }
        }
    }

    private async Task PutRecordAsync(SignedMessage<TransactionRecord> record, CancellationToken cancellationToken)
    {
        string request = record.Message.RequestId.ToString()[..16];
        var retry = FirstRetry;
        bool retrying = false;
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                int confirmed = 0, asked = 0;
                try
                {
                    var result = await _ledger.PutAsync(record, cancellationToken).ConfigureAwait(false);
                    Log.DhtRecordPut(_logger, request, result.Status.ToString(), result.Confirmed, result.Asked);
                    if (result.Status != LedgerPutStatus.Unconfirmed)
                    {
                        if (attempt > 1)
                        {
                            Log.DhtRecordHeldAfterRetry(_logger, request, result.Confirmed, result.Asked, attempt);
                        }

                        return; // held (stored, duplicate), or refused for good (rejected, conflict)
                    }

                    (confirmed, asked) = (result.Confirmed, result.Asked);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    Log.DhtPublishFailed(_logger, ex.Message);
                }

                if (attempt >= MaxRecordAttempts)
                {
                    return;
                }

                if (!retrying)
                {
                    if (Interlocked.Increment(ref _inRetry) > MaxRecordsInRetry)
                    {
                        Interlocked.Decrement(ref _inRetry);
                        Log.DhtRecordNotRetried(_logger, request, confirmed, asked, MaxRecordsInRetry);
                        return;
                    }

                    retrying = true;
                }

                Log.DhtRecordRetry(_logger, request, confirmed, asked, attempt, retry.TotalSeconds);
                try
                {
                    await Task.Delay(retry, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                retry = NextRetry(retry);
            }
        }
        finally
        {
            if (retrying)
            {
                Interlocked.Decrement(ref _inRetry);
            }
        }
    }

    private void Track(Task task)
    {
        lock (_lock)
        {
            _pending.Add(task);
        }

        _ = task.ContinueWith(
            t =>
            {
                lock (_lock)
                {
                    _pending.Remove(t);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
