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
    config.AddCommand<PoIP.Node.Commands.Soak.SoakCommand>("soak").WithDescription("Soak a node network on loopback (nodes, validator, gateway: each its own process) with concurrent streaming clients through the OpenAI API; check steady throughput, bounded memory, no leaked streams, connections or escrows, nothing lost or paid twice (exit 0 only if all hold).");
    config.AddCommand<NodesCommand>("nodes").WithDescription("Diagnose nodes over the network (--peer MULTIADDR): known-answer challenges as ordinary requests and a speed probe (exit 0 passed, 3 failed, 4 unchecked).");
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
        gateway.AddCommand<GatewayAskCommand>("ask").WithDescription("Ask a gateway over HTTP (POST /v1/completions, --url URL): print each answer with its node, receipt and audit; exit 1 when any request failed.");
    });
    config.AddBranch("ledger", ledger =>
    {
        ledger.SetDescription("Create or inspect a ledger (the SQLite file or PoIPLedger on a chain).");
        ledger.AddCommand<LedgerInitCommand>("init").WithDescription("Create an embedded ledger with its validator-accountability rules (--slash-quorum N, --appeal-window SECONDS, --appeal-panel N).");
        ledger.AddCommand<LedgerShowCommand>("show").WithDescription("Show a ledger's totals (conservation; journal check, or contract coin = supply on a chain) and accounts (--key FILE, --peer ID).");
    });
    config.AddBranch("case", fraudCase =>
    {
        fraudCase.SetDescription("Fraud cases on an embedded ledger: where one stands, appeal it, execute it.");
        fraudCase.AddCommand<CaseShowCommand>("show").WithDescription("Show a case (RECEIPT id): state, verdicts, quorum, panel, appeal deadline (exit 1 when there is none).");
        fraudCase.AddCommand<CaseAppealCommand>("appeal").WithDescription("Appeal a conviction within its window (--key FILE: the accused node or a validator it would slash); draws a fresh panel (exit 1 when refused).");
        fraudCase.AddCommand<CaseFinalizeCommand>("finalize").WithDescription("Execute a conviction whose appeal window passed, or whose panel ran out of time (exit 1 when refused).");
    });
    config.AddBranch("chain", chain =>
    {
        chain.SetDescription("PoIPLedger on an EVM chain: a local dev chain, deployments.");
        chain.AddCommand<PoIP.Node.Commands.Chain.ChainDevCommand>("dev").WithDescription("Start a local dev chain (Anvil, installed on first use), deploy PoIPLedger, fund dev accounts; print the RPC URL, write the deployment file; run until stopped.");
        chain.AddCommand<PoIP.Node.Commands.Chain.ChainDeployCommand>("deploy").WithDescription("Deploy PoIPLedger to a chain (--rpc URL --key FILE) and write the deployment file (--out FILE).");
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
    config.AddBranch("dht", dht =>
    {
        dht.SetDescription("The transaction layer's Kademlia DHT (kad-dht): serve, provide, find providers, peers and transaction records.");
        dht.AddCommand<DhtServeCommand>("serve").WithDescription("Serve the DHT; print the full multiaddr (with /p2p/) first; serve until stopped.");
        dht.AddCommand<DhtProvideCommand>("provide").WithDescription("Provide KEY (a ModelId or sha2-256 multihash in hex) and keep serving until stopped.");
        dht.AddCommand<DhtProvidersCommand>("providers").WithDescription("Find the providers of KEY (a ModelId or sha2-256 multihash in hex).");
        dht.AddCommand<DhtFindPeerCommand>("find-peer").WithDescription("Find a peer's addresses through the DHT.");
        dht.AddCommand<DhtRecordsCommand>("records").WithDescription("Print every transaction record of a request found in the DHT (--bootstrap MULTIADDR); exit 3 when a node equivocated.");
    });
});
PoIPApp.Arguments = args; // names the option in a conversion error ("--x: 'soon' is not a whole number")
return await app.RunAsync(args);
