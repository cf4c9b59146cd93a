using System.Buffers;

namespace PoIP.Economics.Evm;

/// <summary>Checks of 0x-prefixed 20-byte addresses.</summary>
internal static class EvmAddress
{
    private static readonly SearchValues<char> Hex = SearchValues.Create("0123456789abcdefABCDEF");

    public static bool IsValid(string? address) =>
        address is { Length: 42 } && address.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && !address.AsSpan(2).ContainsAnyExcept(Hex);

    public static bool IsZero(string address) => address.AsSpan(2).IndexOfAnyExcept('0') < 0;
}
