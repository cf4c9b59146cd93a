using System.Reflection;
using Spectre.Console;

namespace PoIP.Node.Tests;

/// <summary>What one in-process run of the console printed and returned.</summary>
internal sealed record ConsoleResult(int ExitCode, string Out, string Error)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// Runs <c>poip</c> in this process through its real entry point (Program.cs), with standard output,
/// standard error and Spectre's console captured. Runs are serialised: the console's streams are process-wide.
/// </summary>
internal static class ConsoleRun
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly MethodInfo Main = typeof(PoIPApp).Assembly.GetType("Program", throwOnError: true)!
        .GetMethod("<Main>$", BindingFlags.Static | BindingFlags.NonPublic)!;

    public static async Task<ConsoleResult> RunAsync(params string[] args)
    {
        await Gate.WaitAsync();
        var (oldOut, oldError, oldConsole) = (Console.Out, Console.Error, AnsiConsole.Console);
        using var output = new StringWriter();
        using var error = new StringWriter();
        try
        {
            Console.SetOut(output);
            Console.SetError(error);
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(output),
            });
            console.Profile.Width = 4000;
            AnsiConsole.Console = console;
            int code = await (Task<int>)Main.Invoke(null, [args])!;
            return new ConsoleResult(code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
            AnsiConsole.Console = oldConsole;
            Gate.Release();
        }
    }
}
