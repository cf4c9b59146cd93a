using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class DiagnoseCommand : Command<IdentitySettings>
{
    public override int Execute(CommandContext context, IdentitySettings settings, CancellationToken cancellationToken)
    {
        var facts = MachineReport.Collect();
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(facts.ToDictionary(f => f.Name, f => f.Value)));
            return 0;
        }

        var table = new Table().Title("machine").AddColumns("fact", "value");
        foreach (var (name, value) in facts)
        {
            table.AddRow(name, Markup.Escape(value));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
