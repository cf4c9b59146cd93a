using System.Text.Json;
using PoIP.TestUtils;
using Xunit;

namespace PoIP.Node.Tests;

public class GenerateExactPrefillTests
{
    [Fact]
    public async Task Generate_ExactPrefill_EngineIdentityNamesTheExactSettings()
    {
        string model = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout.");
        var plain = await ConsoleRun.RunAsync("generate", "--model", model, "--prompt", "Once", "--max-tokens", "4", "--threads", "1", "--json");
        var exact = await ConsoleRun.RunAsync("generate", "--model", model, "--prompt", "Once", "--max-tokens", "4", "--threads", "1", "--json", "--exact-prefill");

        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(0, exact.ExitCode);
        string Engine(ConsoleResult r)
        {
            using var json = JsonDocument.Parse(r.Out);
            return json.RootElement.GetProperty("engine").GetString()!;
        }

        Assert.DoesNotContain("-norepack", Engine(plain), StringComparison.Ordinal);
        Assert.Contains("-norepack/fa=on/kv=f16/ubatch=32", Engine(exact), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_ExactPrefillWithManagedEngine_ExitsTwo()
    {
        var r = await ConsoleRun.RunAsync("generate", "--model", RepositoryPaths.Stories260K ?? "m.gguf", "--prompt", "Once", "--engine", "managed", "--exact-prefill");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(["error: --exact-prefill sets llama.cpp options; it needs the llama engine."], r.ErrorLines);
    }
}
