using System.Buffers.Binary;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Protocol;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// Pending payment claims on disk, one file per request (<c>&lt;request id&gt;.claim</c>: magic, due
/// time, the two signed envelopes), written to a temporary file, flushed and renamed, so a crash
/// leaves either the old state or the new one. Loading re-verifies both signatures and skips
/// (and reports) files that are damaged. A null directory keeps nothing (claims live in memory only).
/// </summary>
internal sealed class PaymentClaimStore(string? directory)
{
    public const int MaxFileBytes = 2 << 20;
    private static readonly byte[] Magic = "POIPCLM1"u8.ToArray();

    public bool IsDurable => directory is not null;

    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public void Save(PaymentClaim claim)
    {
        if (directory is null)
        {
            return;
        }

        Directory.CreateDirectory(directory);
        var request = claim.Request.Envelope.Encoded.Span;
        var receipt = claim.Receipt.Envelope.Encoded.Span;
        byte[] bytes = new byte[Magic.Length + 8 + 4 + request.Length + 4 + receipt.Length];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt64BigEndian(span[Magic.Length..], claim.DueAt.ToUnixTimeMilliseconds());
        int offset = Magic.Length + 8;
        BinaryPrimitives.WriteInt32BigEndian(span[offset..], request.Length);
        request.CopyTo(span[(offset + 4)..]);
        offset += 4 + request.Length;
        BinaryPrimitives.WriteInt32BigEndian(span[offset..], receipt.Length);
        receipt.CopyTo(span[(offset + 4)..]);

        string path = PathOf(claim.RequestId);
        string temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <exception cref="IOException">The file cannot be deleted.</exception>
    public void Remove(RequestId request)
    {
        if (directory is not null)
        {
            File.Delete(PathOf(request));
        }
    }

    /// <summary>Every readable stored claim (at most <paramref name="limit"/>), and a note per file that could not be read.</summary>
    public (List<PaymentClaim> Claims, List<string> Problems) Load(int limit)
    {
        var claims = new List<PaymentClaim>();
        var problems = new List<string>();
        if (directory is null || !Directory.Exists(directory))
        {
            return (claims, problems);
        }

        foreach (string path in Directory.EnumerateFiles(directory, "*.claim"))
        {
            if (claims.Count >= limit)
            {
                problems.Add($"more than {limit} stored claims; the rest wait for a restart.");
                break;
            }

            try
            {
                claims.Add(Read(path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentOutOfRangeException or PoIPException)
            {
                problems.Add($"{Path.GetFileName(path)}: {e.Message}");
            }
        }

        return (claims, problems);
    }

    private static PaymentClaim Read(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxFileBytes)
        {
            throw new InvalidDataException($"larger than {MaxFileBytes} bytes.");
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length + 16 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a payment claim file.");
        }

        long dueMs = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(Magic.Length));
        int offset = Magic.Length + 8;
        var request = Field(bytes, ref offset);
        var receipt = Field(bytes, ref offset);
        if (offset != bytes.Length)
        {
            throw new InvalidDataException("trailing bytes.");
        }

        var claim = new PaymentClaim(SignedMessage.Open<InferenceRequest>(request), SignedMessage.Open<InferenceReceipt>(receipt), DateTimeOffset.FromUnixTimeMilliseconds(dueMs));
        if (Path.GetFileNameWithoutExtension(path) != claim.RequestId.ToString())
        {
            throw new InvalidDataException("the file name is not the request's id.");
        }

        return claim;
    }

    private static ReadOnlyMemory<byte> Field(byte[] bytes, ref int offset)
    {
        if (bytes.Length - offset < 4)
        {
            throw new InvalidDataException("truncated.");
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset));
        if (length < 0 || length > bytes.Length - offset - 4)
        {
            throw new InvalidDataException("truncated.");
        }

        var field = bytes.AsMemory(offset + 4, length);
        offset += 4 + length;
        return field;
    }

    private string PathOf(RequestId request) => Path.Combine(directory!, request + ".claim");
}
