using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;

namespace PoIP.Testing.LocalNetwork;

/// <summary>The embedded SQLite ledger of a local network, on a clock the network moves past dispute windows.</summary>
internal sealed class EmbeddedLocalLedger : ILocalNetworkLedger
{
    private readonly AdjustableClock _clock = new();
    private readonly EmbeddedStakeManager _ledger;

    public EmbeddedLocalLedger(string path, EconomicParameters parameters) =>
        _ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = path, TimeProvider = _clock, InitialParameters = parameters });

    public IStakeManager Stakes => _ledger;

    public string CheckName => "journal = tables";

    public async Task OpenAccountAsync(Ed25519KeyPair identity, TokenAmount deposit, CancellationToken cancellationToken)
    {
        LocalNetwork.Require(await _ledger.CreateAccountAsync(OperationId.New(), identity.PeerId, cancellationToken).ConfigureAwait(false));
        LocalNetwork.Require(await _ledger.DepositAsync(OperationId.New(), identity.PeerId, deposit, cancellationToken).ConfigureAwait(false));
    }

    public Task AdvanceAsync(TimeSpan by, CancellationToken cancellationToken)
    {
        _clock.Advance(by);
        return Task.CompletedTask;
    }

    public async Task<bool> CheckAsync(CancellationToken cancellationToken) => (await _ledger.VerifyJournalAsync(cancellationToken).ConfigureAwait(false)).Matches;

    public ValueTask DisposeAsync()
    {
        _ledger.Dispose();
        return ValueTask.CompletedTask;
    }
}
