using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using PoIP.Core.Errors;
using PoIP.Testing.Verification;

namespace PoIP.Inference.Tests.Verification;

public sealed class ProofCampaignFileTests
{
    private static readonly string Definition = new('a', 64);

    private static ProofCampaignFile Sample()
    {
        var file = ProofCampaignFile.Create(Definition, ["set-a llama t2", "set-b managed"]);
        file.Add(0, new ProofCampaignBatch(20, 0, 1, 3, 2, ["set-a: inconclusive: engine fault"]));
        file.Add(1, new ProofCampaignBatch(15, 1, 0, 0, 0, ["set-b: false positive"]));
        return file;
    }

    private static byte[] WithChecksum(string body) =>
        Encoding.UTF8.GetBytes(body + "\nsha256 " + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body))) + "\n");

    private static DecodeErrorKind KindOf(ReadOnlySpan<byte> bytes, string? expected = null)
    {
        try
        {
            ProofCampaignFile.Parse(bytes, expected);
        }
        catch (PoIPDecodeException e)
        {
            return e.Kind;
        }

        throw new Xunit.Sdk.XunitException("parsed");
    }

    [Fact]
    public void Parse_Serialized_RoundTripsCountsAndBound()
    {
        var file = Sample();
        var read = ProofCampaignFile.Parse(file.Serialize(), Definition);
        Assert.Equal(35, read.Receipts);
        Assert.Equal(1, read.FalsePositives);
        Assert.Equal(1, read.Inconclusive);
        Assert.Equal(file.Tallies, read.Tallies);
        Assert.Equal(file.Failures, read.Failures);
        Assert.Equal(ClopperPearson.UpperBound(1, 35), read.UpperBound);
        Assert.Equal(file.Serialize(), read.Serialize());
    }

    [Fact]
    public void Parse_EveryTruncation_Truncated()
    {
        byte[] bytes = Sample().Serialize();
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            Assert.Equal(DecodeErrorKind.Truncated, KindOf(bytes.AsSpan(0, cut)));
        }
    }

    [Fact]
    public void Parse_CountEditedWithoutChecksum_MalformedEdited()
    {
        byte[] bytes = Sample().Serialize();
        string text = Encoding.UTF8.GetString(bytes).Replace("\"receipts\":20", "\"receipts\":90", StringComparison.Ordinal);
        var error = Assert.Throws<PoIPDecodeException>(() => ProofCampaignFile.Parse(Encoding.UTF8.GetBytes(text)));
        Assert.Equal(DecodeErrorKind.Malformed, error.Kind);
        Assert.Contains("edited", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OtherVersion_WrongVersion()
    {
        string body = Encoding.UTF8.GetString(Sample().Serialize()).Split('\n')[0].Replace("\"version\":1", "\"version\":2", StringComparison.Ordinal);
        Assert.Equal(DecodeErrorKind.WrongVersion, KindOf(WithChecksum(body)));
    }

    [Fact]
    public void Parse_OtherDefinition_WrongVersion()
    {
        var error = Assert.Throws<PoIPDecodeException>(() => ProofCampaignFile.Parse(Sample().Serialize(), new string('b', 64)));
        Assert.Equal(DecodeErrorKind.WrongVersion, error.Kind);
        Assert.Contains("another campaign definition", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"false_positives\":0,", "\"false_positives\":99,")] // more verdicts than receipts
    [InlineData("\"receipts\":20,", "\"receipts\":-1,")]
    [InlineData("\"receipts\":20,", "\"receipts\":2.5,")]
    [InlineData("\"name\":\"set-b managed\"", "\"name\":\"set-a llama t2\"")] // repeated configuration
    [InlineData("\"version\":1", "\"version\":\"1\"")]
    public void Parse_ImpossibleField_InvalidField(string from, string to)
    {
        string body = Encoding.UTF8.GetString(Sample().Serialize()).Split('\n')[0];
        Assert.Contains(from, body, StringComparison.Ordinal);
        Assert.Equal(DecodeErrorKind.InvalidField, KindOf(WithChecksum(ReplaceFirst(body, from, to))));
    }

    [Theory]
    [InlineData("{\"format\":\"poip-proofs-campaign\",\"version\":1}")]
    [InlineData("[1,2]")]
    [InlineData("not json")]
    public void Parse_NotACampaign_Malformed(string body)
    {
        Assert.Equal(DecodeErrorKind.Malformed, KindOf(WithChecksum(body)));
    }

    [Fact]
    public void Parse_UnknownProperty_Malformed()
    {
        string body = Encoding.UTF8.GetString(Sample().Serialize()).Split('\n')[0];
        Assert.Equal(DecodeErrorKind.Malformed, KindOf(WithChecksum(body[..^1] + ",\"extra\":1}")));
    }

    [Fact]
    public void Parse_Oversize_Oversize()
    {
        Assert.Equal(DecodeErrorKind.Oversize, KindOf(new byte[ProofCampaignFile.MaxLength + 1]));
    }

    [Fact]
    public async Task ReadAsync_WrittenFile_ReadsBack()
    {
        string path = Path.Combine(Path.GetTempPath(), $"poip-campaign-test-{Guid.NewGuid():N}.txt");
        try
        {
            await Sample().WriteAsync(path);
            var read = await ProofCampaignFile.ReadAsync(path, Definition);
            Assert.Equal(35, read.Receipts);
            Assert.False(File.Exists(path + ".tmp"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public Property Parse_MutatedBytes_TypedErrorOrTheSameCounts(PositiveInt position, byte value, bool insert)
    {
        byte[] original = Sample().Serialize();
        int at = position.Get % original.Length;
        byte[] mutated = insert ? [.. original[..at], value, .. original[at..]] : [.. original];
        if (!insert)
        {
            mutated[at] = value;
        }

        try
        {
            var read = ProofCampaignFile.Parse(mutated);
            return read.Serialize().AsSpan().SequenceEqual(original).ToProperty();
        }
        catch (PoIPDecodeException)
        {
            return true.ToProperty();
        }
    }

    private static string ReplaceFirst(string text, string from, string to)
    {
        int at = text.IndexOf(from, StringComparison.Ordinal);
        return text[..at] + to + text[(at + from.Length)..];
    }
}
