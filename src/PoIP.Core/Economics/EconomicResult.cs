namespace PoIP.Core.Economics;

/// <summary>The outcome of an economic operation.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Detail">Why, when not applied.</param>
public sealed record EconomicResult(EconomicStatus Status, string Detail = "")
{
    /// <summary>Applied.</summary>
    public static EconomicResult Applied { get; } = new(EconomicStatus.Applied);

    /// <summary>True when state changed.</summary>
    public bool IsApplied => Status == EconomicStatus.Applied;
}
