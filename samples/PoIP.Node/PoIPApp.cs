using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using PoIP.Core.Errors;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node;

/// <summary>The <c>poip</c> command line's rules: strict parsing, <c>--version</c>, one error style with fixed exit codes (the commands are added in Program.cs).</summary>
internal static partial class PoIPApp
{
    /// <summary>The arguments of this run (set by Program.cs), to name the option whose value failed to convert.</summary>
    internal static IReadOnlyList<string> Arguments { get; set; } = [];

    /// <summary>The console's version (the assembly's informational version, without the source revision).</summary>
    public static string Version { get; } = (typeof(PoIPApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>Creates the application; <paramref name="console"/> (default: the current <see cref="AnsiConsole.Console"/>) receives Spectre's own output (help, version).</summary>
    public static CommandApp Create(IAnsiConsole? console = null)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("poip");
            config.SetApplicationVersion(Version);
            config.UseStrictParsing();
            config.SetExceptionHandler((ex, _) => Fail(ex));
            config.ConfigureConsole(console ?? AnsiConsole.Console); // this run's console, not one cached by an earlier app in the process

        });
        return app;
    }

    /// <summary>Writes the one <c>error:</c> line for <paramref name="ex"/> on standard error and returns its exit code.</summary>
    public static int Fail(Exception ex)
    {
        var (code, message) = Describe(ex);
        Console.Error.WriteLine("error: " + message);
        return code;
    }

    /// <summary>The exit code and the one-line message of a failure: usage errors 2, faults 1; never a type name or a stack trace.</summary>
    internal static (int Code, string Message) Describe(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } or TargetInvocationException { InnerException: not null })
        {
            ex = ex.InnerException!;
        }

        int code = ex switch
        {
            CommandConfigurationException => ExitCodes.Fault,
            CommandAppException or UsageException or ArgumentException or FormatException or FileNotFoundException
                or DirectoryNotFoundException or InvalidDataException or PoIPDecodeException or OptionsValidationException => ExitCodes.Usage,
            _ => ExitCodes.Fault,
        };
        string message = ex is ArgumentException { ParamName: { } name } argument
            ? argument.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal)
            : ex.Message;
        message = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        message = ConversionMessage(message);
        if (message.StartsWith("error:", StringComparison.OrdinalIgnoreCase))
        {
            message = message["error:".Length..].TrimStart();
        }

        return (code, message.Length == 0 ? "the command failed." : message);
    }

    /// <summary>
    /// Spectre's "Failed to convert 'soon' to Int32." in the console's words, without the .NET type name and with the
    /// option it was given to: "--reclaim-every: 'soon' is not a whole number."
    /// </summary>
    private static string ConversionMessage(string message)
    {
        if (ConversionFailure().Match(message) is not { Success: true } match)
        {
            return message;
        }

        string value = match.Groups["value"].Value;
        string kind = match.Groups["type"].Value switch
        {
            "Int32" or "Int64" or "UInt32" or "UInt64" or "Int16" or "UInt16" or "Byte" => "a whole number",
            "Double" or "Single" or "Decimal" => "a number",
            "Boolean" => "true or false",
            _ => "a valid value",
        };
        int at = Arguments.ToList().IndexOf(value);
        string option = at > 0 && Arguments[at - 1].StartsWith('-') ? Arguments[at - 1] + ": " : string.Empty;
        return $"{option}'{value}' is not {kind}.";
    }

    [GeneratedRegex(@"^Failed to convert '(?<value>.*)' to (?<type>[A-Za-z0-9]+)\.$", RegexOptions.CultureInvariant)]
    private static partial Regex ConversionFailure();
}
