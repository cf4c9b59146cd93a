using PoIP.Core.Hashing;
using PoIP.Network.AuditProtocol;
using PoIP.Network.InferProtocol;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// The transcripts a node served (signed request, prompt, signed receipt, output tokens), by receipt id, so that a
/// validator that drew the receipt from the DHT can re-execute it (<c>/poip/transcript/1.0.0</c>). Bounded in count
/// and bytes; the oldest go first. With a directory they are files there (<see cref="TranscriptFile"/>), found again
/// after a restart (only the index is in memory); without one they live in memory only. Thread-safe.
/// </summary>
internal sealed class TranscriptStore
{
    private readonly int _maxTranscripts;
    private readonly long _maxBytes;
    private readonly string? _directory;
    private readonly Dictionary<ReceiptId, Entry> _byReceipt = [];
    private readonly Queue<ReceiptId> _order = new();
    private readonly Lock _lock = new();
    private long _bytes;

    /// <param name="maxTranscripts">Most transcripts kept.</param>
    /// <param name="maxBytes">Most bytes kept, all transcripts together (also the largest one kept).</param>
    /// <param name="directory">Where the transcripts are kept on disk (created when missing); null: in memory only.</param>
    /// <param name="problems">Told, at start, of each stored file that could not be indexed (and was removed).</param>
    public TranscriptStore(int maxTranscripts, long maxBytes, string? directory = null, Action<string>? problems = null)
    {
        _maxTranscripts = maxTranscripts;
        _maxBytes = maxBytes;
        _directory = directory;
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
            LoadIndex(directory, problems);
        }
    }

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

    public bool IsDurable => _directory is not null;

    /// <exception cref="IOException">The transcript cannot be written to the directory.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public void Add(ServedRequest served)
    {
        if (!served.Served || served.Request is null || served.Receipt is null)
        {
            return;
        }

        var id = new ReceiptId(served.Receipt.Hash);
        var transcript = new AuditSubmission(AuditWire.Version, served.Request.Envelope.Encoded.ToArray(), served.Prompt.ToArray(), served.Receipt.Envelope.Encoded.ToArray(), [.. served.OutputTokens]);
        long size = SizeOf(transcript);
        if (size > _maxBytes)
        {
            return;
        }

        lock (_lock)
        {
            if (_byReceipt.ContainsKey(id))
            {
                return;
            }

            if (_directory is not null)
            {
                size = TranscriptFile.Write(PathOf(id), transcript); // under the lock: an eviction never races the write
            }

            _byReceipt[id] = new Entry(_directory is null ? transcript : null, size);
            _order.Enqueue(id);
            _bytes += size;
            EvictBeyondLimits();
        }
    }

    /// <summary>The transcript of <paramref name="receipt"/>, or null when not held (or its file is unreadable: then it is dropped).</summary>
    public AuditSubmission? Find(ReceiptId receipt)
    {
        lock (_lock)
        {
            if (!_byReceipt.TryGetValue(receipt, out var entry))
            {
                return null;
            }

            if (entry.Transcript is not null)
            {
                return entry.Transcript;
            }

            try
            {
                return TranscriptFile.Read(PathOf(receipt), _maxBytes);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                _byReceipt.Remove(receipt);
                _bytes -= entry.Size;
                TryDelete(PathOf(receipt));
                return null;
            }
        }
    }

    private void LoadIndex(string directory, Action<string>? problems)
    {
        var files = new DirectoryInfo(directory).EnumerateFiles("*" + TranscriptFile.Extension).OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            string name = Path.GetFileNameWithoutExtension(file.Name);
            if (!Sha256Digest.TryParseHex(name, out var digest) || file.Length > _maxBytes)
            {
                problems?.Invoke($"{file.Name}: not a transcript file of this store; removed.");
                TryDelete(file.FullName);
                continue;
            }

            var id = new ReceiptId(digest);
            _byReceipt[id] = new Entry(null, file.Length);
            _order.Enqueue(id);
            _bytes += file.Length;
        }

        EvictBeyondLimits();
    }

    private void EvictBeyondLimits()
    {
        while ((_byReceipt.Count > _maxTranscripts || _bytes > _maxBytes) && _order.TryDequeue(out var old))
        {
            if (_byReceipt.Remove(old, out var gone))
            {
                _bytes -= gone.Size;
                if (_directory is not null)
                {
                    TryDelete(PathOf(old));
                }
            }
        }
    }

    private string PathOf(ReceiptId id) => Path.Combine(_directory!, id + TranscriptFile.Extension);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // left behind: indexed again (and evicted) at the next start
        }
    }

    private static long SizeOf(AuditSubmission t) => t.RequestEnvelope.Length + t.Prompt.Length + t.ReceiptEnvelope.Length + (t.OutputTokens.Count * 4L) + 64;

    private sealed record Entry(AuditSubmission? Transcript, long Size);
}
