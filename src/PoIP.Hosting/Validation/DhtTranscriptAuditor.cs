using Microsoft.Extensions.Logging;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Protocol;
using PoIP.Economics.Reputation;
using PoIP.Hosting.DependencyInjection;
using PoIP.Network;
using PoIP.Network.AuditProtocol;
using PoIP.Network.Kademlia;

namespace PoIP.Hosting.Validation;

/// <summary>
/// Audits the receipts a validator drew from the DHT (<see cref="DhtAuditFeed"/>): finds the node by its peer id in the
/// DHT and asks it for the transcript on <c>/poip/transcript/1.0.0</c>, else the client whose signed request is in the
/// record set; refuses any transcript that fails <see cref="TranscriptCheck"/> before using it; puts one that passes
/// through the validator's ordinary audit path (re-execution, verdict, slash on fraud). If no party gives a valid
/// transcript within the window, the node's reputation records it (not slashable: see <see cref="DhtTranscriptStatus.Withheld"/>).
/// </summary>
internal sealed class DhtTranscriptAuditor : IAsyncDisposable
{
    private const int MaxConcurrent = 4;

    private readonly DhtAuditFeed _feed;
    private readonly ValidatorService _validator;
    private readonly IKademliaDht _dht;
    private readonly Libp2pHost _host;
    private readonly ITransactionLedger _ledger;
    private readonly TimeSpan _window;
    private readonly TimeSpan _retry;
    private readonly int _maxPromptBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots = new(MaxConcurrent);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly HashSet<Task> _running = [];

    public DhtTranscriptAuditor(DhtAuditFeed feed, ValidatorService validator, IKademliaDht dht, Libp2pHost host, ITransactionLedger ledger, PoIPValidatorOptions options, TimeProvider time, ILogger logger)
    {
        _feed = feed;
        _validator = validator;
        _dht = dht;
        _host = host;
        _ledger = ledger;
        _window = options.TranscriptWindow;
        _retry = options.TranscriptRetryInterval;
        _maxPromptBytes = options.MaxPromptBytes;
        _time = time;
        _logger = logger;
        feed.Audited += OnAudited;
    }

    public async ValueTask DisposeAsync()
    {
        _feed.Audited -= OnAudited;
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] running;
        lock (_lock)
        {
            running = [.. _running];
        }

        await Task.WhenAll(running).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _slots.Dispose();
    }

    private void OnAudited(object? sender, DhtRecordAudit audit)
    {
        if (audit.Equivocation || audit.Ticket is not { Selected: true } || _stop.IsCancellationRequested)
        {
            return;
        }

        var task = Task.Run(() => FetchAndAuditAsync(audit, _stop.Token), CancellationToken.None);
        lock (_lock)
        {
            _running.Add(task);
        }

        _ = task.ContinueWith(
            t =>
            {
                lock (_lock)
                {
                    _running.Remove(t);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task FetchAndAuditAsync(DhtRecordAudit drawn, CancellationToken cancellationToken)
    {
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await RunAsync(drawn, cancellationToken).ConfigureAwait(false);
                if (result.Status == DhtTranscriptStatus.Withheld)
                {
                    _feed.Reputation.Record(drawn.Node, ReputationEvent.Timeout);
                }

                Log.DhtAudit(_logger, drawn.Request.ToString()[..16], result.Status == DhtTranscriptStatus.Audited
                    ? $"transcript of node {drawn.Node}'s receipt audited: {result.Outcome!.Detail}"
                    : $"node {drawn.Node} withheld the transcript past {_window} ({result.Refusals.Count} refused)");
                _feed.CompleteTranscript(result);
            }
            finally
            {
                _slots.Release();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task<DhtTranscriptAudit> RunAsync(DhtRecordAudit drawn, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _window;
        var refusals = new List<string>();
        PeerId? client = null;
        while (true)
        {
            client ??= await ClientOfAsync(drawn, cancellationToken).ConfigureAwait(false);
            foreach (var party in client is { } c && c != drawn.Node ? new[] { drawn.Node, c } : [drawn.Node])
            {
                var transcript = await TryFetchAsync(party, drawn, cancellationToken).ConfigureAwait(false);
                if (transcript is null)
                {
                    continue;
                }

                if (TranscriptCheck.Refusal(transcript, drawn.Receipt, drawn.Node, _maxPromptBytes) is { } why)
                {
                    if (refusals.Count < 32)
                    {
                        refusals.Add($"{(party == drawn.Node ? "node" : "client")} {party}: {why}");
                    }

                    continue;
                }

                var outcome = await _validator.AuditAsync(transcript.RequestEnvelope, transcript.Prompt, transcript.ReceiptEnvelope, transcript.OutputTokens, cancellationToken).ConfigureAwait(false);
                return new DhtTranscriptAudit(drawn.Request, drawn.Node, drawn.Receipt, DhtTranscriptStatus.Audited, outcome, refusals);
            }

            if (_time.GetUtcNow() >= deadline)
            {
                return new DhtTranscriptAudit(drawn.Request, drawn.Node, drawn.Receipt, DhtTranscriptStatus.Withheld, null, refusals);
            }

            await Task.Delay(_retry, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The client of the request, from the record set in the DHT (null when it cannot be read now).</summary>
    private async Task<PeerId?> ClientOfAsync(DhtRecordAudit drawn, CancellationToken cancellationToken)
    {
        try
        {
            var records = await _ledger.GetAsync(drawn.Request, cancellationToken).ConfigureAwait(false);
            foreach (var record in records)
            {
                if (record.Message.RequestEnvelope.Length > 0)
                {
                    return SignedMessage.Open<InferenceRequest>(record.Message.RequestEnvelope).Message.ClientId;
                }
            }
        }
        catch (Exception ex) when (ex is PoIPException or IOException or Libp2pException)
        {
            Log.DhtPublishFailed(_logger, "reading the record set: " + ex.Message);
        }

        return null;
    }

    /// <summary>Finds <paramref name="party"/> in the DHT and asks it for the transcript; null on any failure or "not held".</summary>
    private async Task<AuditSubmission?> TryFetchAsync(PeerId party, DhtRecordAudit drawn, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            var found = await _dht.FindPeerAsync(party, timeout.Token).ConfigureAwait(false);
            if (found is null || found.Addresses.Count == 0)
            {
                return null;
            }

            var stream = await _host.OpenStreamAsync(found.Addresses[0].WithPeerId(party), TranscriptWire.ProtocolId, timeout.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await TranscriptWire.FetchAsync(stream, drawn.Receipt, _validator.MaxSubmissionLength, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is PoIPException or IOException or Libp2pException or OperationCanceledException or InvalidOperationException)
        {
            Log.DhtPublishFailed(_logger, $"transcript from {party}: {ex.Message}");
            return null;
        }
    }
}
