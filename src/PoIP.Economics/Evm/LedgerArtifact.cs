using System.Text.Json;

namespace PoIP.Economics.Evm;

/// <summary>PoIPLedger's ABI and creation bytecode, compiled from Contracts/PoIPLedger.sol at build time and embedded.</summary>
public static class LedgerArtifact
{
    private static readonly Lazy<(string Abi, string Bytecode, string Compiler)> Loaded = new(Load);

    /// <summary>The contract's ABI (JSON).</summary>
    public static string Abi => Loaded.Value.Abi;

    /// <summary>The creation bytecode (0x hex).</summary>
    public static string Bytecode => Loaded.Value.Bytecode;

    /// <summary>The compiler that produced it (e.g. <c>solc-js 0.8.37+commit...</c>).</summary>
    public static string Compiler => Loaded.Value.Compiler;

    private static (string, string, string) Load()
    {
        using var stream = typeof(LedgerArtifact).Assembly.GetManifestResourceStream("PoIP.Economics.Evm.Contracts.PoIPLedger.json")
            ?? throw new InvalidOperationException("The compiled PoIPLedger contract is not embedded (the build's CompileContracts step did not run).");
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        return (root.GetProperty("abi").GetRawText(), root.GetProperty("bytecode").GetString()!, root.GetProperty("compiler").GetString()!);
    }
}
