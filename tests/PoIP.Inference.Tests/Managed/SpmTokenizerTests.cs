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
