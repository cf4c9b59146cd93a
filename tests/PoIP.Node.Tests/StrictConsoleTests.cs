namespace PoIP.Node.Tests;

public sealed class StrictConsoleTests
{
    public static TheoryData<string> Commands() => [.. CommandCatalog.Commands.Select(c => c.ToString())];

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Run_MisspeltOption_ExitsTwoWithOneCleanErrorLine(string command)
    {
        var entry = CommandCatalog.Commands.Single(c => c.ToString() == command);
        string[] args = [.. entry.Path, .. Enumerable.Repeat("x", entry.RequiredArguments), "--definitely-misspelt"];

        var result = await ConsoleRun.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains("definitely-misspelt", line, StringComparison.Ordinal);
        AssertClean(line);
    }

    [Fact]
    public void Catalog_EveryCommandAndBranch_HasDescription()
    {
        Assert.Contains(CommandCatalog.All, e => e.IsBranch);
        Assert.True(CommandCatalog.Commands.Count() >= 10, "the catalog read the console's commands");
        Assert.All(CommandCatalog.All, e => Assert.False(string.IsNullOrWhiteSpace(e.Description), $"'{e}' has no description"));
    }

    [Fact]
    public async Task Run_UnknownCommand_ExitsTwoWithOneCleanErrorLine()
    {
        var result = await ConsoleRun.RunAsync("demoo");

        Assert.Equal(2, result.ExitCode);
        AssertClean(Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task Run_Version_PrintsVersionAndExitsZero()
    {
        var result = await ConsoleRun.RunAsync("--version");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(PoIPApp.Version, result.Out.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", PoIPApp.Version);
    }

    [Fact]
    public async Task Run_ExtraArgument_ExitsTwo()
    {
        var result = await ConsoleRun.RunAsync("identity", "surplus");

        Assert.Equal(2, result.ExitCode);
        AssertClean(Assert.Single(result.ErrorLines));
    }

    [Fact]
    public void Describe_ArgumentExceptionWithParameter_HidesTheParameterName()
    {
        var (code, message) = PoIPApp.Describe(new ArgumentException("--nodes must be 2 to 16.", "settings"));

        Assert.Equal(2, code);
        Assert.Equal("--nodes must be 2 to 16.", message);
    }

    [Fact]
    public void Describe_MultiLineFault_IsOneLineAndExitOne()
    {
        var (code, message) = PoIPApp.Describe(new AggregateException(new IOException("connection reset\n  by peer")));

        Assert.Equal(1, code);
        Assert.Equal("connection reset by peer", message);
    }

    internal static void AssertClean(string line)
    {
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", line, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", line, StringComparison.Ordinal);
    }
}
