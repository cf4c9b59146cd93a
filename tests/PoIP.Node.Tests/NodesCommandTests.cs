using System.Text.Json;
using PoIP.Testing.LocalNetwork;
using PoIP.TestUtils;

namespace PoIP.Node.Tests;

/// <summary><c>poip nodes</c> against a real 2-node network whose second node alters its output.</summary>
public sealed class NodesCommandTests
{
    [Fact]
    public async Task Nodes_HonestAndCheatingNode_JsonNamesTheCheaterAndExits3()
    {
        string data = Directory.CreateTempSubdirectory("poip-nodes-cmd-").FullName;
        try
        {
            await using var network = await LocalNetwork.StartAsync(new LocalNetworkOptions
            {
                ModelPath = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found."),
                DataDirectory = data,
                Nodes = 2,
                Cheat = CheatKind.AlterOutput,
                AuditProbability = 0,
                MaxTokens = 64,
            });

            var result = await ConsoleRun.RunAsync(
                "nodes", "--peer", network.NodeAddresses[0].ToString(), "--peer", network.NodeAddresses[1].ToString(),
                "--ledger", Path.Combine(data, "ledger.db"), "--key", Path.Combine(data, "probe.key"), "--dev", "--json");

            Assert.Equal(3, result.ExitCode);
            string line = Assert.Single(result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith('{'));
            using var doc = JsonDocument.Parse(line);
            var nodes = doc.RootElement.GetProperty("nodes");
            Assert.Equal("passed", nodes[0].GetProperty("known_answer").GetString());
            Assert.Equal(4, nodes[0].GetProperty("challenges").GetInt32());
            Assert.Equal("FAILED", nodes[1].GetProperty("known_answer").GetString());
            Assert.Equal(network.Nodes[1].Id.ToString(), nodes[1].GetProperty("node_id").GetString());
            Assert.Equal(1, doc.RootElement.GetProperty("failed").GetInt32());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
