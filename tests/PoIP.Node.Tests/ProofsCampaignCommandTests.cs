namespace PoIP.Node.Tests;

/// <summary><c>poip proofs campaign</c> refuses a damaged campaign file before it loads any engine.</summary>
public sealed class ProofsCampaignCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-campaign-cli-").FullName;

    [Theory]
    [InlineData("truncated", "ends before its checksum line")]
    [InlineData("edited", "edited or damaged")]
    [InlineData("other-version", "version 9")]
    public async Task Run_DamagedCampaignFile_ExitsTwoNamingTheFile(string damage, string expected)
    {
        string path = Path.Combine(_directory, damage + ".txt");
        await File.WriteAllTextAsync(path, damage switch
        {
            "truncated" => "{\"format\":\"poip-proofs-campaign\",\"version\":1,",
            "edited" => "{\"format\":\"poip-proofs-campaign\"}\nsha256 " + new string('0', 64) + "\n",
            _ => WithChecksum("{\"format\":\"poip-proofs-campaign\",\"version\":9,\"definition\":\"" + new string('a', 64) + "\",\"configurations\":[],\"failures\":[]}"),
        });

        var result = await ConsoleRun.RunAsync("proofs", "campaign", "--receipts", "10", "--cpu", "avx2", "--resume", path);

        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: " + path, line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        StrictConsoleTests.AssertClean(line);
    }

    [Theory]
    [InlineData("--receipts", "0")]
    [InlineData("--batch", "0")]
    [InlineData("--cpu", "avx9")]
    [InlineData("--cpu", "avx2,avx2")]
    public async Task Run_BadOption_ExitsTwo(string option, string value)
    {
        var result = await ConsoleRun.RunAsync("proofs", "campaign", option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(option, Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string WithChecksum(string body) =>
        body + "\nsha256 " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(body))) + "\n";
}
