using System.Collections.Concurrent;
using PoIP.Inference.Verification;

namespace PoIP.Gateway;

/// <summary>
/// The receipts of answers this gateway delivered, by receipt id (hex), for
/// <c>GET /v1/receipts/{id}</c>: the receipt file's bytes (the format <c>poip verify</c> reads) and the
/// audit state, updated when the audit (which runs after the answer) ends. The file is written out on
/// the first <c>GET</c>, not on the request path. Bounded: past
/// <see cref="PoIPGatewayOptions.ReceiptCapacity"/> the oldest is dropped.
/// </summary>
internal sealed class ReceiptStore(PoIPGatewayOptions options)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    /// <summary>Stores a delivered answer's receipt; <paramref name="auditFinal"/> says whether its audit state can still change.</summary>
    public void Add(string receiptId, ReceiptFile file, string auditStatus, string auditDetail, bool auditFinal)
    {
        var entry = new Entry(file);
        entry.Set(auditStatus, auditDetail, auditFinal);
        if (_entries.TryAdd(receiptId, entry))
        {
            _order.Enqueue(receiptId);
            while (_entries.Count > options.ReceiptCapacity && _order.TryDequeue(out string? oldest))
            {
                _entries.TryRemove(oldest, out _);
            }
        }
    }

    /// <summary>Records the state of a stored receipt's audit (nothing when it was dropped meanwhile); <paramref name="final"/>: it will not change again.</summary>
    public void SetAudit(string receiptId, string auditStatus, string auditDetail, bool final)
    {
        if (_entries.TryGetValue(receiptId, out var entry))
        {
            entry.Set(auditStatus, auditDetail, final);
        }
    }

    public Entry? Find(string receiptId) => _entries.TryGetValue(receiptId, out var entry) ? entry : null;

    /// <summary>One stored receipt and its audit state.</summary>
    internal sealed class Entry(ReceiptFile file)
    {
        private byte[]? _bytes;

        private readonly TaskCompletionSource _audited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private (string Status, string Detail) _audit = ("pending", string.Empty);
        private readonly Lock _lock = new();

        /// <summary>The receipt file's bytes (written on first use, then kept).</summary>
        public byte[] File => _bytes ??= file.ToUtf8Json();

        /// <summary>The audit state now (status, detail).</summary>
        public (string Status, string Detail) Audit
        {
            get
            {
                lock (_lock)
                {
                    return _audit;
                }
            }
        }

        /// <summary>Completes when the audit is over (at once when it was over on delivery).</summary>
        public Task Audited => _audited.Task;

        public void Set(string status, string detail, bool final)
        {
            lock (_lock)
            {
                if (_audited.Task.IsCompleted)
                {
                    return; // final already: a late intermediate state (the first try's) does not overwrite it
                }

                _audit = (status, detail);
                if (final)
                {
                    _audited.TrySetResult(); // inside the lock: no intermediate state can slip in after it (continuations run asynchronously)
                }
            }
        }
    }
}
