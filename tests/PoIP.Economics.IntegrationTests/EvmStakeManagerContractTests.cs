using PoIP.Testing.Economics;

namespace PoIP.Economics.IntegrationTests;

/// <summary>The shared <see cref="StakeManagerContractTests"/> suite, unchanged, against PoIPLedger on Anvil.</summary>
public sealed class EvmStakeManagerContractTests(AnvilChain chain) : StakeManagerContractTests, IClassFixture<AnvilChain>
{
    protected override async Task<IStakeManagerHarness> CreateHarnessAsync() => await EvmHarness.StartAsync(chain);
}
