namespace PoIP.Benchmarks;

/// <summary>
/// A macro benchmark: measures a capability and its baseline in the same run and prints one line
/// <c>BENCH {json}</c>. Implementations are discovered by reflection (no central list to edit).
/// </summary>
internal interface IMacroBenchmark
{
    /// <summary>The name given on the command line.</summary>
    string Name { get; }

    /// <summary>One line of help.</summary>
    string Description { get; }

    /// <summary>Runs and prints the BENCH line; returns the exit code.</summary>
    Task<int> RunAsync(string[] args, CancellationToken cancellationToken);
}
