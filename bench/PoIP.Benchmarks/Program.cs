using System.Reflection;
using BenchmarkDotNet.Running;
using PoIP.Benchmarks;

var macros = typeof(IMacroBenchmark).Assembly.GetTypes()
    .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IMacroBenchmark).IsAssignableFrom(t))
    .Select(t => (IMacroBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: dotnet run -c Release --project bench/PoIP.Benchmarks -- <name> [options]");
    foreach (var b in macros)
    {
        Console.WriteLine($"  {b.Name,-10} {b.Description}");
    }

    Console.WriteLine("  micro      BenchmarkDotNet micro benchmarks (pass BenchmarkDotNet arguments after it)");
    return 0;
}

if (args[0] == "micro")
{
    BenchmarkSwitcher.FromAssembly(Assembly.GetExecutingAssembly()).Run(args[1..]);
    return 0;
}

var macro = macros.FirstOrDefault(b => b.Name == args[0]);
if (macro is null)
{
    Console.Error.WriteLine($"unknown benchmark '{args[0]}'; run without arguments for the list.");
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
try
{
    return await macro.RunAsync(args[1..], cts.Token);
}
catch (InvalidDataException ex)
{
    // A file a benchmark was given (e.g. a dht --checkpoint) that it cannot use: say why, no stack trace.
    Console.Error.WriteLine($"error: {ex.Message}");
    return 2;
}
