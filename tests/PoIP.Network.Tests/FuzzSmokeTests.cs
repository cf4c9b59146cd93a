using PoIP.Network.Fuzz;

namespace PoIP.Network.Tests;

/// <summary>
/// A short, deterministic run of the fuzz harness's targets (fuzz/PoIP.Network.Fuzz runs a million
/// inputs per target): random and mutated inputs must be accepted or rejected with a typed error,
/// never crash a parser.
/// </summary>
public sealed class FuzzSmokeTests
{
    public static TheoryData<string> Targets => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Parser_RandomAndMutatedInputs_OnlyTypedErrors(string name)
    {
        var (_, run, seeds) = FuzzTargets.All.Single(t => t.Name == name);
        int executions = name == "noise-handshake" ? 300 : 3000;
        var mutator = new Mutator(seed: 42);
        var random = new Random(42);
        var corpus = new List<byte[]>(seeds);
        var outcomes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var seed in seeds)
        {
            outcomes.Add(run(seed));
        }

        for (int i = 0; i < executions; i++)
        {
            byte[] input = i % 10 == 0 ? mutator.RandomInput() : mutator.Mutate(corpus[random.Next(corpus.Count)], corpus);
            string outcome = run(input); // any non-typed exception fails the test with the input's outcome history
            if (outcomes.Add(outcome))
            {
                corpus.Add(input);
            }
        }

        // The mutations reached more than one outcome (the parser really saw varied input).
        Assert.True(outcomes.Count > 1, $"{name}: only {string.Join(", ", outcomes)}");
    }

    [Fact]
    public void Seeds_ValidInputs_AreAccepted()
    {
        Assert.StartsWith("ok", FuzzTargets.MultiaddrBinary(FuzzTargets.All.Single(t => t.Name == "multiaddr-binary").Seeds[0]), StringComparison.Ordinal);
        Assert.Equal("/noise", FuzzTargets.Multistream(FuzzTargets.All.Single(t => t.Name == "multistream").Seeds[1]));
        Assert.Equal("okTrue", FuzzTargets.NoiseTransport(FuzzTargets.All.Single(t => t.Name == "noise-transport").Seeds[0]));
        Assert.Equal("ok1", FuzzTargets.Identify(FuzzTargets.All.Single(t => t.Name == "identify").Seeds[0]));
    }
}
