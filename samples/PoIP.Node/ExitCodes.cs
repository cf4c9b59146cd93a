namespace PoIP.Node;

/// <summary>The exit codes of every <c>poip</c> command (docs/console.md).</summary>
internal static class ExitCodes
{
    /// <summary>Done; for verdicts: valid.</summary>
    public const int Ok = 0;

    /// <summary>A fault: something failed that the input did not cause (I/O, a peer, the engine).</summary>
    public const int Fault = 1;

    /// <summary>Usage or bad input: an unknown or invalid option or argument, a missing or malformed file.</summary>
    public const int Usage = 2;

    /// <summary>Fraud was proven (a receipt or node failed verification).</summary>
    public const int Fraud = 3;

    /// <summary>Undecided: the check could not conclude either way.</summary>
    public const int Undecided = 4;
}
