using System.Text.Json;
using PoIP.Core.Identity;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class IdentityCommand : Command<IdentitySettings>
{
    public override int Execute(CommandContext context, IdentitySettings settings, CancellationToken cancellationToken)
    {
        string path = settings.ResolveKeyFile();
        bool created = !File.Exists(path);
        using var key = KeyFile.ReadOrCreate(path);
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { peer_id = key.PeerId.ToString(), public_key = key.PublicKey.ToString(), key_file = path, created }));
            return 0;
        }

        if (created)
        {
            Console.Error.WriteLine($"created a new identity key at {path}");
        }

        var table = new Table().AddColumns("field", "value");
        table.AddRow("peer id", key.PeerId.ToString());
        table.AddRow("public key (ed25519)", key.PublicKey.ToString());
        table.AddRow("key file", Markup.Escape(path));
        AnsiConsole.Write(table);
        return 0;
    }
}
