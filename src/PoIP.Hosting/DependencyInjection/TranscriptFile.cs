using System.Buffers.Binary;
using PoIP.Network.AuditProtocol;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// One served transcript on disk (<c>&lt;receipt id&gt;.transcript</c>): magic <c>POIPTRS1</c>, then the signed request
/// envelope, the prompt bytes and the signed receipt envelope, each with a 4-byte big-endian length, then the token
/// count and the tokens (4 bytes each, big-endian). Written to a temporary file and renamed, so a crash leaves the old
/// state or the new one. Reading checks the size first and every length against what is left; nothing read here is
/// trusted: a validator checks a transcript against both parties' signatures before using it.
/// </summary>
internal static class TranscriptFile
{
    public const string Extension = ".transcript";
    private static readonly byte[] Magic = "POIPTRS1"u8.ToArray();

    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static long Write(string path, AuditSubmission transcript)
    {
        var request = transcript.RequestEnvelope.Span;
        var prompt = transcript.Prompt.Span;
        var receipt = transcript.ReceiptEnvelope.Span;
        byte[] bytes = new byte[Magic.Length + 4 + request.Length + 4 + prompt.Length + 4 + receipt.Length + 4 + (4 * transcript.OutputTokens.Count)];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        int offset = Magic.Length;
        Put(span, ref offset, request);
        Put(span, ref offset, prompt);
        Put(span, ref offset, receipt);
        BinaryPrimitives.WriteInt32BigEndian(span[offset..], transcript.OutputTokens.Count);
        offset += 4;
        foreach (int token in transcript.OutputTokens)
        {
            BinaryPrimitives.WriteInt32BigEndian(span[offset..], token);
            offset += 4;
        }

        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
        return bytes.Length;
    }

    /// <summary>Reads a transcript file of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="InvalidDataException">Oversize, not a transcript file, truncated or with trailing bytes.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static AuditSubmission Read(string path, long maxBytes)
    {
        long length = new FileInfo(path).Length;
        if (length > maxBytes)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)} is larger than {maxBytes} bytes.");
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{Path.GetFileName(path)} is not a transcript file.");
        }

        int offset = Magic.Length;
        var request = Field(bytes, ref offset);
        var prompt = Field(bytes, ref offset);
        var receipt = Field(bytes, ref offset);
        int count = Length(bytes, ref offset);
        if ((long)count * 4 != bytes.Length - offset)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)}: the token count does not match the file's length.");
        }

        var tokens = new int[count];
        for (int i = 0; i < count; i++)
        {
            tokens[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset + (4 * i)));
        }

        return new AuditSubmission(AuditWire.Version, request, prompt, receipt, tokens);
    }

    private static void Put(Span<byte> span, ref int offset, ReadOnlySpan<byte> field)
    {
        BinaryPrimitives.WriteInt32BigEndian(span[offset..], field.Length);
        field.CopyTo(span[(offset + 4)..]);
        offset += 4 + field.Length;
    }

    private static int Length(byte[] bytes, ref int offset)
    {
        if (bytes.Length - offset < 4)
        {
            throw new InvalidDataException("a transcript file is truncated.");
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset));
        offset += 4;
        if (length < 0)
        {
            throw new InvalidDataException("a transcript file holds a negative length.");
        }

        return length;
    }

    private static ReadOnlyMemory<byte> Field(byte[] bytes, ref int offset)
    {
        int length = Length(bytes, ref offset);
        if (length > bytes.Length - offset)
        {
            throw new InvalidDataException("a transcript file is truncated.");
        }

        var field = bytes.AsMemory(offset, length);
        offset += length;
        return field;
    }
}
