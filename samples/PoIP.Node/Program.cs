using PoIP.Node;
using PoIP.Node.Commands;
using Spectre.Console.Cli;

// Strict parsing, --version and the one error style come from PoIPApp; every command and branch has a description.
var app = PoIPApp.Create();
app.Configure(config =>
{
    config.AddCommand<DemoCommand>("demo").WithDescription("Run the demo network on loopback (main job).");
    config.AddCommand<IdentityCommand>("identity").WithDescription("Show (and create if needed) this machine's node identity.");
    config.AddCommand<GenerateCommand>("generate").WithDescription("Generate text with the llama.cpp engine (streams; --json for tokens, ids and timings).");
    config.AddCommand<VerifyCommand>("verify").WithDescription("Verify a receipt file by teacher-forced re-execution (exit 0 valid, 3 fraud, 4 undecided, 2 malformed input).");
    config.AddCommand<DiagnoseCommand>("diagnose").WithDescription("Report this machine's hardware and build facts.");
    config.AddBranch("model", model =>
    {
        model.SetDescription("Inspect and synthesize GGUF models.");
        model.AddCommand<ModelInfoCommand>("info").WithDescription("Print a GGUF model's metadata summary and its ModelId (SHA-256).");
        model.AddCommand<ModelSynthCommand>("synth").WithDescription("Write a llama-architecture GGUF model with seeded weights.");
    });
    config.AddBranch("proofs", proofs =>
    {
        proofs.SetDescription("Measure what the proofs catch.");
        proofs.AddCommand<ProofsMatrixCommand>("matrix").WithDescription("Run the detection matrix on real llama.cpp engines (--cases N, --json).");
        proofs.AddCommand<ProofsCampaignCommand>("campaign").WithDescription("Verify honest receipts across every allowed configuration; print false positives and their 95% upper bound (--receipts N, --resume FILE, --json).");
    });
    config.AddBranch("sim", sim =>
    {
        sim.SetDescription("Simulations of the protocol's economics.");
        sim.AddCommand<SimCheatingCommand>("cheating").WithDescription("Simulate honest vs cheating nodes under probabilistic audits.");
    });
    config.AddBranch("node", node =>
    {
        node.SetDescription("The inference-node role.");
        node.AddCommand<NodeRunCommand>("run").WithDescription("Run an inference node (known-answer and stake gates, /poip/infer/1.0.0); prints its multiaddr first.");
    });
    config.AddBranch("validator", validator =>
    {
        validator.SetDescription("The validator role.");
        validator.AddCommand<ValidatorRunCommand>("run").WithDescription("Run a validator (/poip/audit/1.0.0): re-executes sampled receipts, slashes fraud.");
    });
    config.AddBranch("client", client =>
    {
        client.SetDescription("The client role.");
        client.AddCommand<ClientAskCommand>("ask").WithDescription("Ask nodes (--peer MULTIADDR) a prompt; print the answer and the receipt summary.");
    });
    config.AddBranch("gateway", gateway =>
    {
        gateway.SetDescription("The OpenAI-compatible HTTP gateway.");
        gateway.AddCommand<GatewayRunCommand>("run").WithDescription("Serve the OpenAI-compatible HTTP API (--http 127.0.0.1:PORT) in front of nodes (--peer MULTIADDR); prints its address once ready.");
    });
    config.AddBranch("ledger", ledger =>
    {
        ledger.SetDescription("Inspect a local ledger.");
        ledger.AddCommand<LedgerShowCommand>("show").WithDescription("Show a local ledger's totals (conservation, journal check) and accounts (--key FILE, --peer ID).");
    });
    config.AddBranch("hosts", hosts =>
    {
        hosts.SetDescription("Many hosts on one Linux machine: network namespaces on a lab wire (needs root).");
        hosts.AddCommand<HostsUpCommand>("up").WithDescription("Make N hosts running 'p2p listen'; keep them until stdin closes or Ctrl+C; then remove everything.");
        hosts.AddCommand<HostsSweepCommand>("sweep").WithDescription("Remove the namespaces and processes of dead lab runs.");
    });
    config.AddBranch("p2p", p2p =>
    {
        p2p.SetDescription("libp2p tools: listen, ping, perf.");
        p2p.AddCommand<P2pListenCommand>("listen").WithDescription("Listen; print the full multiaddr first; serve identify, ping and perf until stopped.");
        p2p.AddCommand<P2pPingCommand>("ping").WithDescription("Ping a peer (/ipfs/ping/1.0.0).");
        p2p.AddCommand<P2pPerfCommand>("perf").WithDescription("Measure throughput to a peer (/perf/1.0.0).");
    });
});
return await app.RunAsync(args);
