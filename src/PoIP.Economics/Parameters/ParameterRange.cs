namespace PoIP.Economics.Parameters;

/// <summary>The inclusive range a parameter value must lie in.</summary>
/// <param name="Minimum">Smallest accepted value.</param>
/// <param name="Maximum">Largest accepted value.</param>
public readonly record struct ParameterRange(UInt128 Minimum, UInt128 Maximum)
{
    /// <summary>True when <paramref name="value"/> lies in the range.</summary>
    public bool Contains(UInt128 value) => value >= Minimum && value <= Maximum;
}
