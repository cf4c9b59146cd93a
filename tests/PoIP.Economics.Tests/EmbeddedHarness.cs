using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;
using PoIP.Testing.Economics;

namespace PoIP.Economics.Tests;

/// <summary>The embedded back end on a real SQLite WAL file with a fake clock.</summary>
internal sealed class EmbeddedHarness : IStakeManagerHarness
{
    private readonly TempDatabase _database = new();

    public EmbeddedHarness(EconomicParameters? parameters = null, bool requireRegisteredValidator = true, AccountabilityRules? accountability = null)
    {
        Clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        Options = new EmbeddedEconomicsOptions
        {
            DatabasePath = _database.Path,
            TimeProvider = Clock,
            InitialParameters = parameters ?? EconomicParameters.Default,
            RequireRegisteredValidator = requireRegisteredValidator,
            Accountability = accountability ?? AccountabilityRules.Default,
            SynchronousFull = false,
        };
        Embedded = EmbeddedStakeManager.Open(Options);
        var p = Options.InitialParameters;
        Parameters = new StakeManagerContractParameters(p.SlashFractionBps, p.ChallengerShareBps, p.PublicFundShareBps, p.ProtocolFeeBps, p.DisputeWindow, p.UnbondingPeriod, p.MinimumStake);
    }

    public FakeTimeProvider Clock { get; }

    public EmbeddedEconomicsOptions Options { get; }

    public EmbeddedStakeManager Embedded { get; private set; }

    public IStakeManager Manager => Embedded;

    public StakeManagerContractParameters Parameters { get; }

    public async Task FundAsync(PeerId account, TokenAmount amount) =>
        Assert.True((await Embedded.DepositAsync(OperationId.New(), account, amount)).IsApplied);

    public Task AdvanceTimeAsync(TimeSpan by)
    {
        Clock.Advance(by);
        return Task.CompletedTask;
    }

    public async Task RegisterValidatorAsync(PeerId validator)
    {
        await FundAsync(validator, Parameters.MinimumStake);
        Assert.True((await Embedded.StakeAsync(OperationId.New(), validator, Parameters.MinimumStake)).IsApplied);
        Assert.True((await Embedded.RegisterValidatorAsync(OperationId.New(), validator)).IsApplied);
    }

    /// <summary>Closes and reopens the database (as a restarted host would).</summary>
    public void Reopen()
    {
        Embedded.Dispose();
        Embedded = EmbeddedStakeManager.Open(Options);
    }

    public async ValueTask DisposeAsync()
    {
        // Every test's ledger must also be rebuildable from its journal.
        var check = await Embedded.VerifyJournalAsync();
        Embedded.Dispose();
        _database.Dispose();
        Assert.True(check.Matches, check.Difference);
    }
}
