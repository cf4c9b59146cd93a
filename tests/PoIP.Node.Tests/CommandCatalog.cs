using System.Xml.Linq;

namespace PoIP.Node.Tests;

/// <summary>A command or branch of the console, as its own configuration describes it.</summary>
/// <param name="Path">Words that reach it, e.g. <c>["p2p", "ping"]</c>.</param>
/// <param name="IsBranch">True for a branch (it has sub-commands).</param>
/// <param name="Description">Its description (empty when none).</param>
/// <param name="RequiredArguments">How many required positional arguments it takes.</param>
internal sealed record CommandEntry(IReadOnlyList<string> Path, bool IsBranch, string Description, int RequiredArguments)
{
    public override string ToString() => string.Join(' ', Path);
}

/// <summary>
/// Every command and branch of <c>poip</c>, read from the CommandApp's own model (<c>poip cli xmldoc</c>),
/// never from a hand list: commands added later are covered too.
/// </summary>
internal static class CommandCatalog
{
    private static readonly Lazy<IReadOnlyList<CommandEntry>> Entries = new(Load);

    public static IReadOnlyList<CommandEntry> All => Entries.Value;

    public static IEnumerable<CommandEntry> Commands => All.Where(e => !e.IsBranch);

    private static IReadOnlyList<CommandEntry> Load()
    {
        var result = ConsoleRun.RunAsync("cli", "xmldoc").GetAwaiter().GetResult();
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"poip cli xmldoc exited {result.ExitCode}: {result.Error}");
        }

        var model = XDocument.Parse(result.Out[result.Out.IndexOf('<', StringComparison.Ordinal)..]);
        var entries = new List<CommandEntry>();
        foreach (var command in model.Root!.Elements("Command"))
        {
            Walk(command, [], entries);
        }

        return entries;
    }

    private static void Walk(XElement command, IReadOnlyList<string> parent, List<CommandEntry> entries)
    {
        var path = parent.Append((string)command.Attribute("Name")!).ToArray();
        var children = command.Elements("Command").ToList();
        int required = command.Element("Parameters")?.Elements("Argument").Count(a => (bool?)a.Attribute("Required") ?? false) ?? 0;
        entries.Add(new CommandEntry(path, children.Count > 0, command.Element("Description")?.Value.Trim() ?? string.Empty, required));
        foreach (var child in children)
        {
            Walk(child, path, entries);
        }
    }
}
