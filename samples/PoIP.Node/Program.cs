using PoIP.Node.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("poip");
    config.AddCommand<DemoCommand>("demo").WithDescription("Run the demo network on loopback (main job).");
    config.AddCommand<IdentityCommand>("identity").WithDescription("Show (and create if needed) this machine's node identity.");
    config.AddCommand<DiagnoseCommand>("diagnose").WithDescription("Report this machine's hardware and build facts.");
    config.AddBranch("sim", sim => sim.AddCommand<SimCheatingCommand>("cheating").WithDescription("Simulate honest vs cheating nodes under probabilistic audits."));
});
return await app.RunAsync(args);
