namespace PoIP.Core.Economics;

/// <summary>
/// How a ledger holds validators to account (docs/proofs.md, "Validator accountability").
/// The defaults (<see cref="Default"/>: quorum 1, no appeal window) keep the single-verdict slash
/// that executes at once; a network turns accountability on with a larger quorum or an appeal window.
/// </summary>
/// <param name="SlashQuorum">Independent fraud verdicts (distinct registered validators) needed before a node can be slashed; as many valid verdicts acquit it.</param>
/// <param name="AppealWindow">How long after a conviction the slash waits for an appeal (zero: it executes at once and nobody can appeal); also how long an appeal panel has to judge.</param>
/// <param name="AppealPanelSize">Validators drawn afresh to judge an appeal; a majority of the drawn panel decides.</param>
public sealed record AccountabilityRules(int SlashQuorum, TimeSpan AppealWindow, int AppealPanelSize)
{
    /// <summary>Largest quorum or panel.</summary>
    public const int MaxValidators = 32;

    /// <summary>The compatible default: one verdict slashes at once.</summary>
    public static AccountabilityRules Default { get; } = new(1, TimeSpan.Zero, 3);

    /// <summary>Whether a slash waits for a quorum or an appeal window (false: the legacy single-verdict slash).</summary>
    public bool Deferred => SlashQuorum > 1 || AppealWindow > TimeSpan.Zero;

    /// <summary>The problem with these rules, or null.</summary>
    public string? Validate() =>
        SlashQuorum is < 1 or > MaxValidators ? $"SlashQuorum must be 1 to {MaxValidators}."
        : AppealPanelSize is < 1 or > MaxValidators ? $"AppealPanelSize must be 1 to {MaxValidators}."
        : AppealWindow < TimeSpan.Zero || AppealWindow > TimeSpan.FromDays(30) ? "AppealWindow must be 0 to 30 days."
        : null;
}
