using PoIP.Core.Money;
using PoIP.Packaging.Tests.Snippets;
using PoIP.TestUtils;

namespace PoIP.Packaging.Tests;

/// <summary>
/// Every package has a README whose examples are code this project compiles (and, where cheap, runs):
/// a README or docs/ block marked <c>&lt;!-- snippet: NAME --&gt;</c> that drifts from its source fails
/// here. POIP_UPDATE_SNIPPETS=1 rewrites the blocks.
/// </summary>
public sealed class PackageReadmeTests
{
    [Fact]
    public void ReadmesAndDocs_EverySnippetBlock_EqualsItsCompiledSource()
    {
        var sources = SnippetCatalog.Sources();
        bool update = Environment.GetEnvironmentVariable("POIP_UPDATE_SNIPPETS") == "1";
        var problems = new List<string>();
        foreach (string readme in SnippetCatalog.Readmes)
        {
            if (!File.Exists(readme))
            {
                problems.Add($"{readme}: missing (every package has a README)");
                continue;
            }

            if (update)
            {
                SnippetCatalog.Update(readme, sources);
            }

            var blocks = SnippetCatalog.Blocks(readme);
            if (blocks.Count == 0 && readme.Contains("/src/", StringComparison.Ordinal)) // every package README has an example
            {
                problems.Add($"{readme}: no '<!-- snippet: NAME -->' example");
            }

            foreach (var (name, code) in blocks)
            {
                if (!sources.TryGetValue(name, out string? source))
                {
                    problems.Add($"{readme}: snippet '{name}' has no '// begin-snippet: {name}' source in tests/PoIP.Packaging.Tests");
                }
                else if (source != code)
                {
                    problems.Add($"{readme}: snippet '{name}' differs from its source (POIP_UPDATE_SNIPPETS=1 rewrites it); the source:\n{source}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void CoreSnippet_Run_ProvesInclusionAndSigner()
    {
        var (included, signedByKey) = CoreSnippet.Run("Once upon a time, a prompt longer than nothing.");

        Assert.True(included);
        Assert.True(signedByKey);
    }

    [Fact]
    public async Task EconomicsSnippet_Run_StakesHalfOfTheDeposit()
    {
        var directory = Directory.CreateTempSubdirectory("poip-snippet-");
        try
        {
            var (balance, staked) = await EconomicsSnippet.RunAsync(directory.FullName);

            Assert.Equal(TokenAmount.FromTokens(500), balance);
            Assert.Equal(TokenAmount.FromTokens(500), staked);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task NetworkSnippet_Run_PingsTheListenerItDialled()
    {
        var (roundTrip, remote, expected) = await NetworkSnippet.RunAsync();

        Assert.Equal(expected, remote);
        Assert.True(roundTrip > TimeSpan.Zero);
    }

    [Fact]
    public async Task InferenceSnippet_Run_GeneratesTheTokensAsked()
    {
        string model = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");

        var (tokens, text) = await InferenceSnippet.RunAsync(model);

        Assert.InRange(tokens, 1, 16);
        Assert.False(string.IsNullOrWhiteSpace(text));
    }

    [Fact]
    public async Task GatewaySnippet_Build_MapsTheOpenAiRoutes()
    {
        string model = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");
        var directory = Directory.CreateTempSubdirectory("poip-snippet-");
        try
        {
            await using var app = await GatewaySnippet.BuildAsync(model, directory.FullName, "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN");
            var routes = ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)app).DataSources
                .SelectMany(s => s.Endpoints).OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>().Select(e => e.RoutePattern.RawText).ToList();

            Assert.Contains("/v1/chat/completions", routes);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
