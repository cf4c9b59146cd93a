using PoIP.Testing.Economics;

namespace PoIP.Economics.Tests;

/// <summary>The shipped contract suite, run against the embedded SQLite back end.</summary>
public sealed class EmbeddedStakeManagerContractTests : StakeManagerContractTests
{
    protected override Task<IStakeManagerHarness> CreateHarnessAsync() => Task.FromResult<IStakeManagerHarness>(new EmbeddedHarness());
}
