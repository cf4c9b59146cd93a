using PoIP.Node.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("poip");
    config.AddCommand<DemoCommand>("demo").WithDescription("Run the demo network on loopback (main job).");
    config.AddCommand<IdentityCommand>("identity").WithDescription("Show (and create if needed) this machine's node identity.");
    config.AddCommand<DiagnoseCommand>("diagnose").WithDescription("Report this machine's hardware and build facts.");
    config.AddBranch("p2p", p2p =>
    {
        p2p.SetDescription("libp2p tools: listen, ping, perf.");
        p2p.AddCommand<P2pListenCommand>("listen").WithDescription("Listen; print the full multiaddr first; serve identify, ping and perf until stopped.");
        p2p.AddCommand<P2pPingCommand>("ping").WithDescription("Ping a peer (/ipfs/ping/1.0.0).");
        p2p.AddCommand<P2pPerfCommand>("perf").WithDescription("Measure throughput to a peer (/perf/1.0.0).");
    });
});
return await app.RunAsync(args);
