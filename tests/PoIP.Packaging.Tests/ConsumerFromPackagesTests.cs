using System.Security;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using PoIP.TestUtils;

namespace PoIP.Packaging.Tests;

/// <summary>
/// Packs every shipped library (from this configuration's build, no rebuild) into a temporary folder feed,
/// restores and builds Consumer/ (PackageReference only, its own nuget.config: the feed plus the machine's
/// sources) and runs its node–client round trip on llama.cpp and stories260K.
/// </summary>
public sealed partial class ConsumerFromPackagesTests
{
    private static readonly string[] Libraries = ["PoIP.Core", "PoIP.Inference", "PoIP.Network", "PoIP.Economics", "PoIP.Hosting", "PoIP.Gateway", "PoIP.Testing"];

    [Fact]
    public async Task Consumer_FromPackedPackagesOnly_RunsANodeClientRoundTrip()
    {
        string model = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");
        string configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var work = Directory.CreateTempSubdirectory("poip-consumer-");
        try
        {
            string feed = Directory.CreateDirectory(Path.Combine(work.FullName, "feed")).FullName;
            string consumer = Directory.CreateDirectory(Path.Combine(work.FullName, "consumer")).FullName;
            string data = Directory.CreateDirectory(Path.Combine(work.FullName, "data")).FullName;

            // A version of its own (never in any cache), packed from the assemblies this run built.
            var built = typeof(Core.Merkle.MerkleTree).Assembly.GetName().Version!;
            string version = $"{built.Major}.{built.Minor}.{built.Build}-consumer.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
            string packProject = Path.Combine(work.FullName, "pack.proj");
            File.WriteAllText(packProject, PackProject(configuration));
            await Step("pack", work.FullName, TimeSpan.FromMinutes(5), "msbuild", packProject, "-nologo", "-v:m", "-nodeReuse:false", $"-p:PackageVersion={version}", $"-p:PackageOutputPath={feed}/");
            foreach (string library in Libraries)
            {
                Assert.True(File.Exists(Path.Combine(feed, $"{library}.{version}.nupkg")), $"{library} was not packed");
                Assert.True(File.Exists(Path.Combine(feed, $"{library}.{version}.snupkg")), $"{library}'s symbols were not packed");
            }


            foreach (string file in new[] { "Program.cs", "PoIP.Consumer.csproj" })
            {
                File.Copy(Path.Combine(SnippetCatalog.ProjectDirectory, "Consumer", file), Path.Combine(consumer, file));
            }

            File.WriteAllText(Path.Combine(consumer, "nuget.config"), NuGetConfig(feed, Path.Combine(work.FullName, "packages")));
            string props = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "Directory.Packages.props"));
            string[] properties =
            [
                $"-p:PoIPVersion={version}",
                $"-p:LlamaBackendVersion={CentralVersion(props, "LLamaSharp.Backend.Cpu")}",
                $"-p:ExtensionsHostingVersion={CentralVersion(props, "Microsoft.Extensions.Hosting")}",
            ];

            await Step("restore", consumer, TimeSpan.FromMinutes(5), ["restore", "-nologo", "--disable-build-servers", .. properties]);
            await Step("build", consumer, TimeSpan.FromMinutes(5), ["build", "-c", "Release", "--no-restore", "-nologo", "--disable-build-servers", "-nodeReuse:false", .. properties]);
            AssertNoProjectReferences(Path.Combine(consumer, "obj", "project.assets.json"));

            string dll = Path.Combine(consumer, "bin", "Release", "net10.0", "PoIP.Consumer.dll");
            string run = await Step("run", consumer, TimeSpan.FromMinutes(3), dll, model, data);

            var summary = Summary().Match(run);
            Assert.True(summary.Success, "no summary line in the consumer's output:\n" + run);
            Assert.Equal(summary.Groups["node"].Value, summary.Groups["signer"].Value);
            Assert.Equal("24", summary.Groups["tokens"].Value);
        }
        finally
        {
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
                // a child may hold a file for a moment; the temporary folder is the OS's to clean then
            }
        }
    }

    private static async Task<string> Step(string name, string directory, TimeSpan limit, params string[] arguments)
    {
        var (exitCode, text) = await DotnetCli.RunAsync(directory, limit, arguments);
        Assert.True(exitCode == 0, $"{name} failed ({exitCode}):\n{text}");
        return text;
    }

    /// <summary>An MSBuild project that packs the shipped libraries from their existing build outputs.</summary>
    private static string PackProject(string configuration)
    {
        string projects = string.Join(';', Libraries.Select(l => Path.Combine(RepositoryPaths.Root, "src", l, l + ".csproj")));
        return $"""
            <Project>
              <Target Name="Build">
                <MSBuild Projects="{SecurityElement.Escape(projects)}" Targets="Pack" Properties="Configuration={configuration};NoBuild=true" />
              </Target>
            </Project>
            """;
    }

    /// <summary>The consumer's nuget.config: the feed added to the machine's sources; PoIP packages land in a folder of their own, everything else is read from the machine's package folder.</summary>
    private static string NuGetConfig(string feed, string packages)
    {
        string machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{SecurityElement.Escape(packages)}" />
              </config>
              <fallbackPackageFolders>
                <add key="machine" value="{SecurityElement.Escape(machinePackages)}" />
              </fallbackPackageFolders>
              <packageSources>
                <add key="poip-local" value="{SecurityElement.Escape(feed)}" />
              </packageSources>
            </configuration>
            """;
    }

    private static string CentralVersion(string props, string package) =>
        XDocument.Parse(props).Descendants("PackageVersion").Single(e => (string?)e.Attribute("Include") == package).Attribute("Version")!.Value;

    /// <summary>Every library the consumer resolved is a package (the assets file names no project).</summary>
    private static void AssertNoProjectReferences(string assetsFile)
    {
        string assets = File.ReadAllText(assetsFile);
        Assert.DoesNotContain("\"type\": \"project\"", assets, StringComparison.Ordinal);
        foreach (string library in Libraries.Where(l => l != "PoIP.Gateway" && l != "PoIP.Testing"))
        {
            Assert.Contains($"\"{library}/", assets, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"node (?<node>\S+) receipt-signer (?<signer>\S+) tokens (?<tokens>\d+)")]
    private static partial Regex Summary();
}
