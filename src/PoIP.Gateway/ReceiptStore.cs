using System.Collections.Concurrent;

namespace PoIP.Gateway;

/// <summary>
/// The receipts of answers this gateway delivered, by receipt id (hex), for
/// <c>GET /v1/receipts/{id}</c>: the receipt file's bytes (the format <c>poip verify</c> reads) and the
/// audit state. Bounded: past <see cref="PoIPGatewayOptions.ReceiptCapacity"/> the oldest is dropped.
/// </summary>
internal sealed class ReceiptStore(PoIPGatewayOptions options)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public void Add(string receiptId, byte[] file, string auditStatus, string auditDetail)
    {
        if (_entries.TryAdd(receiptId, new Entry(file, auditStatus, auditDetail)))
        {
            _order.Enqueue(receiptId);
            while (_entries.Count > options.ReceiptCapacity && _order.TryDequeue(out string? oldest))
            {
                _entries.TryRemove(oldest, out _);
            }
        }
    }

    public Entry? Find(string receiptId) => _entries.TryGetValue(receiptId, out var entry) ? entry : null;

    /// <summary>One stored receipt.</summary>
    internal sealed record Entry(byte[] File, string AuditStatus, string AuditDetail);
}
