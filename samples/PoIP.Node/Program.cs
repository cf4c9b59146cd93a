using PoIP.Node.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("poip");
    config.AddCommand<DemoCommand>("demo").WithDescription("Run the demo network on loopback (main job).");
    config.AddCommand<IdentityCommand>("identity").WithDescription("Show (and create if needed) this machine's node identity.");
    config.AddCommand<GenerateCommand>("generate").WithDescription("Generate text with the llama.cpp engine (streams; --json for tokens, ids and timings).");
    config.AddCommand<DiagnoseCommand>("diagnose").WithDescription("Report this machine's hardware and build facts.");
});
return await app.RunAsync(args);
