using Microsoft.Extensions.Hosting;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;
using PoIP.Hosting.DependencyInjection;
using PoIP.TestUtils;

namespace PoIP.Hosting.Tests;

/// <summary>Builds generic hosts composed with AddPoIP over one temporary ledger file.</summary>
internal sealed class HostingFixture : IDisposable
{
    public HostingFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("poip-di-").FullName;
        LedgerPath = Path.Combine(Directory, "ledger.db");

        // Create the ledger (genesis) once, before any role opens it.
        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = LedgerPath, SynchronousFull = false, InitialParameters = EconomicParameters.Default });
    }

    public string Directory { get; }

    public string LedgerPath { get; }

    public static string Stories => RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");

    public IHost Build(string name, Action<PoIPBuilder> compose)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var poip = builder.Services.AddPoIP(o => o.KeyFile = Path.Combine(Directory, name + ".key"))
            .AddEmbeddedEconomics(o =>
            {
                o.DatabasePath = LedgerPath;
                o.SynchronousFull = false;
            });
        compose(poip);
        return builder.Build();
    }

    public static void Llama(PoIPBuilder poip, string model) => poip.AddLlamaEngine(o =>
    {
        o.ModelPath = model;
        o.Threads = 1;
        o.ContextSize = 512;
        o.MaxPromptTokens = 128;
        o.MaxOutputTokens = 64;
        o.MaxConcurrentSequences = 1;
    });

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a child process may still hold a file for a moment; the temp folder is cleaned by the OS
        }
    }
}
