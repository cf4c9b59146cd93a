using System.Text.Json;

namespace PoIP.Benchmarks;

internal static class BenchOutput
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    /// <summary>Prints <c>BENCH {json}</c>; values are written in insertion order.</summary>
    public static void Print(IReadOnlyDictionary<string, object> figures) =>
        Console.WriteLine("BENCH " + JsonSerializer.Serialize(figures, Options));

    public static double Round(double value, int digits = 3) => Math.Round(value, digits, MidpointRounding.AwayFromZero);
}
