using System.Globalization;
using System.Text;
using PoIP.Core.Errors;
using PoIP.Inference.Gguf;

namespace PoIP.Inference.Managed;

/// <summary>
/// A SentencePiece-style ("llama"/spm) tokenizer built from a GGUF vocabulary, written to give the
/// same ids as llama.cpp's spm tokenizer: the text gets a leading space, spaces become U+2581,
/// UTF-8 characters are merged pairwise by highest piece score (ties: leftmost first) while the
/// merged text is a vocabulary entry, and characters left without a piece fall back to byte tokens
/// <c>&lt;0xNN&gt;</c>. User-defined tokens are matched verbatim before merging.
/// </summary>
internal sealed class SpmTokenizer
{
    private const char SpaceMarker = '\u2581';
    private const int TypeNormal = 1;
    private const int TypeUnknown = 2;
    private const int TypeControl = 3;
    private const int TypeUserDefined = 4;
    private const int TypeUnused = 5;
    private const int TypeByte = 6;

    private readonly string[] _tokens;
    private readonly float[] _scores;
    private readonly int[] _types;
    private readonly Dictionary<string, int> _ids;
    private readonly int[] _byteTokens = new int[256];
    private readonly string[] _userDefined;
    private readonly byte[][] _pieces;

    public SpmTokenizer(string[] tokens, float[]? scores, int[]? types, int bos, int eos, int unknown, bool addSpacePrefix)
    {
        _tokens = tokens;
        _scores = scores ?? new float[tokens.Length];
        _types = types ?? Enumerable.Repeat(TypeNormal, tokens.Length).ToArray();
        if (_scores.Length != tokens.Length || _types.Length != tokens.Length)
        {
            throw GgufFile.Error(DecodeErrorKind.InvalidField, "tokenizer arrays differ in length.");
        }

        Bos = bos;
        Eos = eos;
        Unknown = unknown;
        AddSpacePrefix = addSpacePrefix;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
        {
            _ids.TryAdd(tokens[i], i); // llama.cpp keeps the first id of a duplicated text too
        }

        for (int b = 0; b < 256; b++)
        {
            _byteTokens[b] = _ids.TryGetValue(string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>"), out int id) ? id : unknown;
        }

        _userDefined = [.. Enumerable.Range(0, tokens.Length).Where(i => _types[i] == TypeUserDefined && tokens[i].Length > 0)
            .Select(i => tokens[i]).OrderByDescending(t => t.Length).ThenBy(t => t, StringComparer.Ordinal)];
        _pieces = new byte[tokens.Length][];
        for (int i = 0; i < tokens.Length; i++)
        {
            _pieces[i] = PieceBytes(i);
        }
    }

    public int VocabularySize => _tokens.Length;

    public int Bos { get; }

    public int Eos { get; }

    public int Unknown { get; }

    public bool AddSpacePrefix { get; }

    public static SpmTokenizer FromGguf(GgufFile file)
    {
        string model = file.GetString("tokenizer.ggml.model");
        if (model != "llama")
        {
            throw GgufFile.Error(DecodeErrorKind.InvalidField, $"tokenizer.ggml.model '{model}' is not supported (only 'llama' SentencePiece).");
        }

        string[] tokens = file.GetArray<string>("tokenizer.ggml.tokens")
            ?? throw GgufFile.Error(DecodeErrorKind.InvalidField, "tokenizer.ggml.tokens is missing.");
        float[]? scores = file.GetArray<float>("tokenizer.ggml.scores");
        int[]? types = file.GetArray<int>("tokenizer.ggml.token_type");
        int bos = file.GetInt32("tokenizer.ggml.bos_token_id", -1, tokens.Length - 1, 1);
        int eos = file.GetInt32("tokenizer.ggml.eos_token_id", -1, tokens.Length - 1, 2);
        int unknown = file.GetInt32("tokenizer.ggml.unknown_token_id", -1, tokens.Length - 1, 0);
        bool addSpacePrefix = !file.Metadata.TryGetValue("tokenizer.ggml.add_space_prefix", out GgufMetadataValue? prefix) || prefix.Value is not false;
        foreach (int id in new[] { bos, eos, unknown })
        {
            if (id < -1 || id >= tokens.Length)
            {
                throw GgufFile.Error(DecodeErrorKind.InvalidField, $"special token id {id} is outside the vocabulary.");
            }
        }

        return new SpmTokenizer(tokens, scores, types, bos, eos, unknown, addSpacePrefix);
    }

    public List<int> Encode(string text, bool addBos)
    {
        var output = new List<int>(text.Length + 2);
        if (addBos && Bos >= 0)
        {
            output.Add(Bos);
        }

        if (text.Length == 0)
        {
            return output;
        }

        bool previousSpecial = true;
        int start = 0;
        while (start < text.Length)
        {
            (int at, string? special) = FindUserDefined(text, start);
            if (at > start)
            {
                EncodeFragment(text[start..at], previousSpecial, output);
                previousSpecial = false;
            }

            if (special is null)
            {
                break;
            }

            output.Add(_ids[special]);
            previousSpecial = true;
            start = at + special.Length;
        }

        return output;
    }

    /// <summary>The raw bytes a token stands for (byte tokens give their byte, control tokens nothing).</summary>
    public ReadOnlySpan<byte> Piece(int token) => (uint)token < (uint)_pieces.Length ? _pieces[token] : [];

    public string Decode(IReadOnlyList<int> tokens)
    {
        var bytes = new List<byte>(tokens.Count * 4);
        bool first = true;
        foreach (int token in tokens)
        {
            ReadOnlySpan<byte> piece = Piece(token);
            if (piece.Length == 0)
            {
                continue;
            }

            if (first && AddSpacePrefix && piece[0] == (byte)' ' && IsText(token))
            {
                piece = piece[1..]; // the space the tokenizer added
            }

            first = false;
            foreach (byte b in piece)
            {
                bytes.Add(b);
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public bool IsValid(int token) => (uint)token < (uint)_tokens.Length;

    private bool IsText(int token) => _types[token] is TypeNormal or TypeUserDefined;

    /// <summary>Whether <see cref="Decode"/> drops the leading space of <paramref name="token"/> when its piece is the first non-empty one.</summary>
    internal bool DropsLeadingSpace(int token)
    {
        ReadOnlySpan<byte> piece = Piece(token);
        return piece.Length > 0 && AddSpacePrefix && piece[0] == (byte)' ' && IsText(token);
    }

    private byte[] PieceBytes(int token)
    {
        string text = _tokens[token];
        switch (_types[token])
        {
            case TypeNormal:
                return Encoding.UTF8.GetBytes(text.Replace(SpaceMarker, ' '));
            case TypeUserDefined:
                return Encoding.UTF8.GetBytes(text);
            case TypeByte:
                if (text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
                    && byte.TryParse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
                {
                    return [value];
                }

                return [];
            case TypeUnknown:
                return "\u2585"u8.ToArray();
            case TypeControl:
            case TypeUnused:
            default:
                return [];
        }
    }

    private (int At, string? Token) FindUserDefined(string text, int start)
    {
        if (_userDefined.Length == 0)
        {
            return (text.Length, null);
        }

        for (int i = start; i < text.Length; i++)
        {
            foreach (string candidate in _userDefined)
            {
                if (string.CompareOrdinal(text, i, candidate, 0, candidate.Length) == 0)
                {
                    return (i, candidate);
                }
            }
        }

        return (text.Length, null);
    }

    private void EncodeFragment(string fragment, bool previousSpecial, List<int> output)
    {
        string text = (AddSpacePrefix && previousSpecial ? " " + fragment : fragment).Replace(' ', SpaceMarker);

        // Symbols: one per UTF-8 character (a surrogate pair is one character).
        var starts = new List<int>(text.Length);
        for (int i = 0; i < text.Length; i += char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1)
        {
            starts.Add(i);
        }

        int n = starts.Count;
        var symbolStart = new int[n];
        var symbolLength = new int[n];
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            symbolStart[i] = starts[i];
            symbolLength[i] = (i + 1 < n ? starts[i + 1] : text.Length) - starts[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        var queue = new PriorityQueue<(int Left, int Right, int Size), (float Score, int Left)>(BigramOrder.Instance);
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0)
            {
                return;
            }

            int size = symbolLength[left] + symbolLength[right];
            if (_ids.TryGetValue(text.Substring(symbolStart[left], size), out int id))
            {
                queue.Enqueue((left, right, size), (_scores[id], left));
            }
        }

        for (int i = 1; i < n; i++)
        {
            TryAdd(i - 1, i);
        }

        while (queue.TryDequeue(out var bigram, out _))
        {
            int left = bigram.Left;
            int right = bigram.Right;
            if (symbolLength[left] == 0 || symbolLength[right] == 0 || symbolLength[left] + symbolLength[right] != bigram.Size)
            {
                continue;
            }

            symbolLength[left] += symbolLength[right];
            symbolLength[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = left;
            }

            TryAdd(prev[left], left);
            TryAdd(left, next[left]);
        }

        for (int i = n > 0 ? 0 : -1; i != -1; i = next[i])
        {
            string piece = text.Substring(symbolStart[i], symbolLength[i]);
            if (_ids.TryGetValue(piece, out int id))
            {
                output.Add(id);
                continue;
            }

            foreach (byte b in Encoding.UTF8.GetBytes(piece))
            {
                output.Add(_byteTokens[b]);
            }
        }
    }

    private sealed class BigramOrder : IComparer<(float Score, int Left)>
    {
        public static readonly BigramOrder Instance = new();

        // Min-heap order: the higher score comes first, then the leftmost pair.
        public int Compare((float Score, int Left) x, (float Score, int Left) y)
        {
            int byScore = y.Score.CompareTo(x.Score);
            return byScore != 0 ? byScore : x.Left.CompareTo(y.Left);
        }
    }
}
