using PoIP.Inference.Managed;

namespace PoIP.Inference.Tests.Managed;

public sealed class SpmTokenizerTests
{
    public static readonly TheoryData<string> Texts =
    [
        string.Empty,
        " ",
        "Once upon a time, there was a little girl named Lily.",
        "  two leading spaces and  double  spaces ",
        "line one\nline two\n\nparagraph",
        "tabs\tand\r\nwindows newlines",
        "Ünïcödé façade naïve café",
        "日本語のテキスト",
        "emoji 🦙🚀 and symbols ∑∫√",
        "numbers 1234567890 3.14159 -42",
        "MixedCASE WORDS and punctuation!?;:'\"()[]{}",
        "<s> and </s> are plain text here",
        "a",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "The quick brown fox jumps over the lazy dog.",
    ];

    [Theory]
    [MemberData(nameof(Texts))]
    public async Task Tokenize_Stories260K_MatchesLlamaCpp(string text)
    {
        await using var engine = await ManagedLlamaEngine.LoadAsync(Stories.Path);
        using var reference = new LlamaCppReference(Stories.Path);
        foreach (bool bos in new[] { true, false })
        {
            Assert.Equal(reference.Tokenize(text, bos), engine.Tokenize(text, bos));
        }
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public async Task Detokenize_TokenizedText_RoundTrips(string text)
    {
        await using var engine = await ManagedLlamaEngine.LoadAsync(Stories.Path);
        Assert.Equal(text, engine.Detokenize(engine.Tokenize(text, addBeginOfSequence: true)));
        Assert.Equal(text, engine.Detokenize(engine.Tokenize(text, addBeginOfSequence: false)));
    }

    [Fact]
    public async Task Tokenize_OverLimit_ThrowsEngineException()
    {
        await using var engine = await ManagedLlamaEngine.LoadAsync(Stories.Path, new ManagedLlamaEngineOptions { MaxTextLength = 10 });
        var error = Assert.Throws<PoIP.Core.Errors.EngineException>(() => engine.Tokenize(new string('a', 11), true));
        Assert.Equal("engine.prompt_too_long", error.Code);
        Assert.NotEmpty(engine.Tokenize(new string('a', 10), true));
    }
}

public sealed class SpmTokenizerPropertyTests
{
    private static readonly Lazy<ManagedLlamaEngine> Engine = new(() => ManagedLlamaEngine.LoadAsync(Stories.Path).GetAwaiter().GetResult());
    private static readonly Lazy<LlamaCppReference> Reference = new(() => new LlamaCppReference(Stories.Path, 64));

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public void Tokenize_RandomText_MatchesLlamaCppAndRoundTrips(string? raw)
    {
        string text = Sanitize(raw);
        int[] expected = Reference.Value.Tokenize(text, true);
        IReadOnlyList<int> actual = Engine.Value.Tokenize(text, true);
        Assert.Equal(expected, actual);
        Assert.Equal(text, Engine.Value.Detokenize(actual));
    }

    // Valid UTF-16 only (lone surrogates cannot cross into UTF-8), NUL excluded (C strings end there).
    private static string Sanitize(string? raw)
    {
        var builder = new System.Text.StringBuilder();
        foreach (System.Text.Rune rune in (raw ?? string.Empty).Replace('\0', ' ').EnumerateRunes())
        {
            builder.Append(rune == System.Text.Rune.ReplacementChar ? "x" : rune.ToString());
        }

        return builder.ToString();
    }
}
