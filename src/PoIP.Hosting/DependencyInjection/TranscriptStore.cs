using PoIP.Core.Hashing;
using PoIP.Network.AuditProtocol;
using PoIP.Network.InferProtocol;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// The transcripts a node served (signed request, prompt, signed receipt, output tokens), by receipt id, so that a
/// validator that drew the receipt from the DHT can re-execute it (<c>/poip/transcript/1.0.0</c>). In memory, bounded
/// in count and bytes; the oldest go first. Thread-safe.
/// </summary>
internal sealed class TranscriptStore(int maxTranscripts, long maxBytes)
{
    private readonly Dictionary<ReceiptId, AuditSubmission> _byReceipt = [];
    private readonly Queue<ReceiptId> _order = new();
    private readonly Lock _lock = new();
    private long _bytes;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byReceipt.Count;
            }
        }
    }

    public void Add(ServedRequest served)
    {
        if (!served.Served || served.Request is null || served.Receipt is null)
        {
            return;
        }

        var id = new ReceiptId(served.Receipt.Hash);
        var transcript = new AuditSubmission(AuditWire.Version, served.Request.Envelope.Encoded.ToArray(), served.Prompt.ToArray(), served.Receipt.Envelope.Encoded.ToArray(), [.. served.OutputTokens]);
        long size = SizeOf(transcript);
        if (size > maxBytes)
        {
            return;
        }

        lock (_lock)
        {
            if (!_byReceipt.TryAdd(id, transcript))
            {
                return;
            }

            _order.Enqueue(id);
            _bytes += size;
            while ((_byReceipt.Count > maxTranscripts || _bytes > maxBytes) && _order.TryDequeue(out var old))
            {
                if (_byReceipt.Remove(old, out var gone))
                {
                    _bytes -= SizeOf(gone);
                }
            }
        }
    }

    public AuditSubmission? Find(ReceiptId receipt)
    {
        lock (_lock)
        {
            return _byReceipt.GetValueOrDefault(receipt);
        }
    }

    private static long SizeOf(AuditSubmission t) => t.RequestEnvelope.Length + t.Prompt.Length + t.ReceiptEnvelope.Length + (t.OutputTokens.Count * 4L) + 64;
}
