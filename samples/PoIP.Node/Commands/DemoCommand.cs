using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

/// <summary>
/// The main job. Until the network layers land, it walks one transaction through the protocol
/// vocabulary that exists (identities, Merkle input root, signed request and receipt) and prints
/// the machine's diagnostics.
/// </summary>
internal sealed class DemoCommand : Command<IdentitySettings>
{
    public override int Execute(CommandContext context, IdentitySettings settings, CancellationToken cancellationToken)
    {
        using var client = Ed25519KeyPair.Generate();
        using var node = Ed25519KeyPair.Generate();
        const string prompt = "Once upon a time, there was a little robot who wanted to be trusted.";
        var request = InferenceRequest.ForPrompt(
            prompt,
            new Core.Hashing.ModelId(Core.Hashing.Sha256Digest.Compute("stories260K"u8)),
            client.PeerId,
            SamplingParameters.Greedy,
            seed: 1,
            maxTokens: 32,
            priceCap: TokenAmount.ParseTokens("0.01"),
            nonce: 1,
            expiresAt: TimeProvider.System.GetUtcNow().AddMinutes(1));
        var signed = SignedMessage.Create(client, request);
        var opened = SignedMessage.Open<InferenceRequest>(signed.Envelope.Encoded);
        bool inputIntact = opened.Message.MatchesInput(System.Text.Encoding.UTF8.GetBytes(prompt));

        AnsiConsole.MarkupLine("[bold]PoIP demo[/] (foundation stage: the network, engine and economics layers are being built)");
        var table = new Table().AddColumns("step", "result");
        table.AddRow("client identity", client.PeerId.ToString());
        table.AddRow("node identity", node.PeerId.ToString());
        table.AddRow("input Merkle root", request.InputRoot.ToString());
        table.AddRow("signed request", $"{signed.Envelope.Encoded.Length} bytes, id {signed.Hash.ToString()[..16]}…");
        table.AddRow("node verified signature", opened.Signer == client.PeerId ? "[green]yes[/]" : "[red]no[/]");
        table.AddRow("node recomputed input root", inputIntact ? "[green]matches[/]" : "[red]differs[/]");
        table.AddRow("tampered prompt detected", !opened.Message.MatchesInput("Once upon a time, there was a little robot who wanted to be rich."u8) ? "[green]yes[/]" : "[red]no[/]");
        AnsiConsole.Write(table);

        var machine = new Table().Title("machine").AddColumns("fact", "value");
        foreach (var (name, value) in MachineReport.Collect())
        {
            machine.AddRow(name, Markup.Escape(value));
        }

        AnsiConsole.Write(machine);
        return inputIntact ? 0 : 1;
    }
}
