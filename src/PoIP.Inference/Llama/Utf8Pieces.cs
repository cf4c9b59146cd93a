using System.Text;
using LLama.Native;

namespace PoIP.Inference.Llama;

/// <summary>
/// Token → text, without allocating per token: the text of every token whose bytes are complete
/// UTF-8 is computed once and cached; a token that ends inside a multi-byte character leaves its
/// tail pending until the next token completes it (see <see cref="Utf8Stream"/>).
/// </summary>
internal sealed class Utf8Pieces
{
    private const int MaxPieceBytes = 256;
    private readonly SafeLlamaModelHandle _model;
    private readonly string?[] _text;
    private readonly byte[]?[] _bytes;

    public Utf8Pieces(SafeLlamaModelHandle model, int vocabularySize)
    {
        _model = model;
        _text = new string?[vocabularySize];
        _bytes = new byte[]?[vocabularySize];
    }

    /// <summary>The raw bytes of a token (control tokens render as nothing).</summary>
    public ReadOnlySpan<byte> Bytes(int token)
    {
        byte[]? bytes = _bytes[token];
        if (bytes is null)
        {
            Span<byte> buffer = stackalloc byte[MaxPieceBytes];
            uint needed = _model.TokenToSpan((LLamaToken)token, buffer, 0, false);
            int length = (int)Math.Min(needed, (uint)MaxPieceBytes);
            bytes = buffer[..length].ToArray();
            _bytes[token] = bytes;
        }

        return bytes;
    }

    /// <summary>The token's text when its bytes are complete UTF-8, else null.</summary>
    public string? CompleteText(int token)
    {
        string? text = _text[token];
        if (text is null)
        {
            ReadOnlySpan<byte> bytes = Bytes(token);
            if (!System.Text.Unicode.Utf8.IsValid(bytes))
            {
                return null;
            }

            text = Encoding.UTF8.GetString(bytes);
            _text[token] = text;
        }

        return text;
    }
}

/// <summary>Per-sequence UTF-8 assembly across token boundaries.</summary>
internal sealed class Utf8Stream
{
    private readonly byte[] _pending = new byte[512];
    private int _pendingCount;

    public void Reset() => _pendingCount = 0;

    /// <summary>The text this token adds to the output (empty while a character is incomplete).</summary>
    public string Append(Utf8Pieces pieces, int token)
    {
        if (_pendingCount == 0)
        {
            string? complete = pieces.CompleteText(token);
            if (complete is not null)
            {
                return complete;
            }
        }

        ReadOnlySpan<byte> bytes = pieces.Bytes(token);
        if (_pendingCount + bytes.Length > _pending.Length)
        {
            // Not UTF-8 the way a tokenizer makes it: flush what is pending as replacement characters.
            _pendingCount = 0;
        }

        bytes.CopyTo(_pending.AsSpan(_pendingCount));
        int total = _pendingCount + bytes.Length;
        int keep = IncompleteTail(_pending.AsSpan(0, total));
        int emit = total - keep;
        string text = emit == 0 ? string.Empty : Encoding.UTF8.GetString(_pending, 0, emit);
        _pending.AsSpan(emit, keep).CopyTo(_pending);
        _pendingCount = keep;
        return text;
    }

    /// <summary>How many trailing bytes start a multi-byte character that is not complete yet.</summary>
    internal static int IncompleteTail(ReadOnlySpan<byte> bytes)
    {
        for (int back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            byte b = bytes[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // continuation byte: look further back for the lead
            }

            int needed = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return needed > back ? back : 0;
        }

        return 0;
    }
}
