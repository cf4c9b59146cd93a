using PoIP.Core.Economics;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded;

/// <summary>Options of the embedded (SQLite) economic back end.</summary>
public sealed class EmbeddedEconomicsOptions
{
    /// <summary>The SQLite database file (created if missing; WAL mode). <c>:memory:</c> gives a private in-memory ledger (tests only: nothing survives).</summary>
    public string DatabasePath { get; set; } = string.Empty;

    /// <summary>The clock for unbonding periods, dispute windows and voting (default: the system clock).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Parameters written at genesis (when the database is new); ignored for an existing ledger, whose parameters come from its journal.</summary>
    public EconomicParameters InitialParameters { get; set; } = EconomicParameters.Default;

    /// <summary>
    /// When true (default), a fraud verdict only slashes if its validator is registered (registration
    /// needs the minimum stake bonded). When false, any key other than the accused's may sign
    /// verdicts: only for closed test networks. Fixed at genesis.
    /// </summary>
    public bool RequireRegisteredValidator { get; set; } = true;

    /// <summary>
    /// How validators are held to account (quorum, appeal window, appeal panel). Fixed at genesis.
    /// Default <see cref="AccountabilityRules.Default"/>: one verdict slashes at once, as before
    /// accountability existed (existing demos and ledgers keep working); set a quorum above 1 or an
    /// appeal window to defer slashes (docs/proofs.md, "Validator accountability").
    /// </summary>
    public AccountabilityRules Accountability { get; set; } = AccountabilityRules.Default;

    /// <summary>
    /// When true (default), every commit is fsynced (<c>synchronous=FULL</c>): committed operations
    /// survive power loss. When false (<c>NORMAL</c>), they survive a process crash but the last
    /// commits may be lost on power loss.
    /// </summary>
    public bool SynchronousFull { get; set; } = true;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">No path, or invalid initial parameters.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DatabasePath))
        {
            throw new ArgumentException("DatabasePath is required.", nameof(DatabasePath));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(InitialParameters);
        ArgumentNullException.ThrowIfNull(Accountability);
        if (Accountability.Validate() is { } invalid)
        {
            throw new ArgumentException("Accountability: " + invalid, nameof(Accountability));
        }

        string? problem = InitialParameters.Validate();
        if (problem is not null)
        {
            throw new ArgumentException("InitialParameters: " + problem, nameof(InitialParameters));
        }
    }
}
