using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PoIP.Core.Money;
using PoIP.Hosting.DependencyInjection;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

/// <summary>Flags every role command shares.</summary>
internal class RoleSettings : CommandSettings
{
    [CommandOption("--config <FILE>")]
    [Description("JSON config file (default ./poip.json when present). Flags override it.")]
    public string? Config { get; init; }

    [CommandOption("--key <FILE>")]
    [Description("Identity key file (created with mode 0600 when absent). Default ~/.poip/<role>.key")]
    public string? Key { get; init; }

    [CommandOption("--ledger <FILE>")]
    [Description("The SQLite ledger shared by the local network (created when absent).")]
    public string? Ledger { get; init; }

    [CommandOption("--chain <URL>")]
    [Description("Settle on PoIPLedger on this chain (JSON-RPC URL, e.g. from 'poip chain dev') instead of --ledger; needs --deployment.")]
    public string? Chain { get; init; }

    [CommandOption("--deployment <FILE>")]
    [Description("With --chain: the deployment file (chain id, contract addresses and ABIs) from 'poip chain dev' or 'poip chain deploy'.")]
    public string? Deployment { get; init; }

    [CommandOption("--chain-key <FILE>")]
    [Description("With --chain: this role's chain account key (hex; created with mode 0600 when absent). Default beside --key: <name>.chain.key")]
    public string? ChainKey { get; init; }

    [CommandOption("--dev")]
    [Description("Local development: mint into this identity's ledger account (on a dev chain: fund its account) and stake what the role needs.")]
    public bool Dev { get; init; }

    [CommandOption("--verbose")]
    [Description("Debug logging (stderr).")]
    public bool Verbose { get; init; }

    [CommandOption("--bootstrap <MULTIADDR>")]
    [Description("A DHT peer to join the transaction layer through, ending in /p2p/<peer id> (repeatable): nodes publish their provider, capability and transaction records; clients find nodes by model.")]
    public string[] Bootstrap { get; init; } = [];

    [CommandOption("--dht")]
    [Description("Join the DHT without --bootstrap (this host is then the first DHT peer others bootstrap from).")]
    public bool Dht { get; init; }

    [CommandOption("--dht-protocol <ID>")]
    [Description("DHT protocol id. Default /poip/kad/1.0.0 (/ipfs/kad/1.0.0: the public DHT).")]
    public string? DhtProtocol { get; init; }

    [CommandOption("--clock-offset <SECONDS>")]
    [Description("Testing clock skew: shift this role's clock (its TimeProvider: expiry and record dates, not timers) by this many seconds (-3600 to 3600). Default 0.")]
    public int ClockOffset { get; init; }

    public override ValidationResult Validate() => ValidateDht();

    /// <summary>Checks the DHT flags (subclasses that override <see cref="Validate"/> call it first).</summary>
    protected ValidationResult ValidateDht()
    {
        if (ClockOffset is < -3600 or > 3600)
        {
            return ValidationResult.Error("--clock-offset must be -3600 to 3600 seconds.");
        }

        foreach (string address in Bootstrap)
        {
            if (!Network.Addressing.Multiaddr.TryParse(address, out var parsed) || parsed!.PeerId is null)
            {
                return ValidationResult.Error($"--bootstrap: '{address}' is not a multiaddr ending in /p2p/<peer id>.");
            }
        }

        return DhtProtocol is { } id && (id.Length is 0 or > 128 || id[0] != '/' || id.Any(char.IsWhiteSpace))
            ? ValidationResult.Error($"--dht-protocol: '{id}' must start with '/' (e.g. /poip/kad/1.0.0).")
            : ValidationResult.Success();
    }
}

/// <summary>Flags of the roles that listen and run an engine (node, validator).</summary>
internal class ServingRoleSettings : RoleSettings
{
    [CommandOption("--listen <MULTIADDR>")]
    [Description("Address to listen on (repeatable). Default /ip4/127.0.0.1/tcp/0.")]
    public string[] Listen { get; init; } = [];

    [CommandOption("--threads <N>")]
    [Description("CPU threads of the engine (0 = all cores). Default 1.")]
    public int? Threads { get; init; }

    [CommandOption("--exact-prefill")]
    [Description("Engine settings whose teacher-forced prefill equals decoding bit for bit on K-quant models (weight repacking off, flash attention on, micro-batch 32): a validator checks such a receipt with one prefill, no replay (docs/proofs.md 9b). Nodes and their validators must both use it (it is part of the engine identity).")]
    public bool ExactPrefill { get; init; }

    /// <summary>Applies <see cref="ExactPrefill"/> to the engine's options.</summary>
    public void ApplyEngineProfile(Inference.Llama.LlamaEngineOptions options)
    {
        if (ExactPrefill)
        {
            ExactPrefillProfile.Apply(options);
        }
    }

    [CommandOption("--stop-on-stdin-close")]
    [Description("Stop when standard input closes (used by 'poip demo --separate-processes'); a 'status' line on standard input prints the open libp2p connections and streams as JSON ('poip soak').")]
    public bool StopOnStdinClose { get; init; }
}

/// <summary>Builds the generic host of one role: logs to stderr (stdout is for results), optional stop on stdin EOF.</summary>
internal static class RoleHost
{
    public static HostApplicationBuilder CreateBuilder(RoleSettings settings, bool stopOnStdinClose)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(settings.Verbose ? LogLevel.Debug : LogLevel.Information);
        if (!settings.Verbose)
        {
            // A refused start is reported as one "error:" line by RunAsync; the host's own stack trace only with --verbose.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
        }

        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddSingleton<IHostLifetime, Microsoft.Extensions.Hosting.Internal.ConsoleLifetime>();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        if (stopOnStdinClose)
        {
            builder.Services.AddHostedService<StopOnStdinClose>();
        }

        AddClockOffset(builder.Services, settings);

        return builder;
    }

    /// <summary><c>--clock-offset</c>: the role's <see cref="TimeProvider"/> (which every PoIP part takes from the container) runs ahead or behind.</summary>
    public static void AddClockOffset(IServiceCollection services, RoleSettings settings)
    {
        if (settings.ClockOffset != 0)
        {
            services.AddSingleton<TimeProvider>(new OffsetTimeProvider(TimeSpan.FromSeconds(settings.ClockOffset)));
        }
    }

    /// <summary>The part every listening role shares: identity, libp2p listen addresses and the shared ledger.</summary>
    public static PoIPBuilder AddServingRole(HostApplicationBuilder builder, string keyFile, IEnumerable<string> listen, Chain.RoleEconomics ledger, bool dev) =>
        ledger.AddTo(
            builder.Services.AddPoIP(o => o.KeyFile = keyFile)
                .AddLibp2p(o =>
                {
                    foreach (string address in listen)
                    {
                        o.ListenAddresses.Add(address);
                    }
                }),
            keyFile,
            dev);

    /// <summary>Joins the DHT when <c>--bootstrap</c> or <c>--dht</c> was given (the real Kademlia on this role's libp2p host).</summary>
    public static PoIPBuilder AddDhtIfAsked(PoIPBuilder poip, RoleSettings settings, Network.Kademlia.DhtMode mode)
    {
        if (settings.Bootstrap.Length == 0 && !settings.Dht)
        {
            return poip;
        }

        return poip.AddDht(o =>
        {
            foreach (string address in settings.Bootstrap)
            {
                o.Bootstrap.Add(address);
            }

            o.Mode = mode;
            o.ProtocolId = settings.DhtProtocol ?? o.ProtocolId;
        });
    }

    /// <summary>Prints the listen multiaddrs on standard output (the first line is what scripts read), then a status line on standard error.</summary>
    public static async Task AnnounceAsync(PoIPRuntime runtime, string status, CancellationToken cancellationToken)
    {
        foreach (var address in runtime.ListenAddresses)
        {
            Console.WriteLine(address);
        }

        await Console.Out.FlushAsync(cancellationToken);
        await Console.Error.WriteLineAsync(status);
    }

    public static string DefaultKey(string role) => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".poip", role + ".key");

    /// <summary>The role's ledger: <c>--ledger FILE</c> or <c>--chain URL --deployment FILE</c> (exclusive), checked before anything starts.</summary>
    public static Chain.RoleEconomics RequireLedger(RoleSettings settings, RoleConfig config) => Chain.RoleEconomics.From(settings, config);

    public static TokenAmount ParseTokens(string text, string what)
    {
        try
        {
            return TokenAmount.ParseTokens(text);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"{what}: '{text}' is not a token amount (e.g. 0.001).", ex);
        }
    }

    /// <summary>Runs the host; start failures (options, gates) become one error line and exit code 2.</summary>
    public static async Task<int> RunAsync(IHost host, Func<IServiceProvider, PoIPRuntime, Task>? onStarted, CancellationToken cancellationToken)
    {
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException or PoIPStartupException or Core.Errors.PoIPException or ArgumentException or IOException
            || (ex is AggregateException all && all.InnerExceptions.All(e => e is Microsoft.Extensions.Options.OptionsValidationException)))
        {
            var messages = ex is AggregateException aggregate ? aggregate.InnerExceptions.Select(e => e.Message) : [ex.Message];
            foreach (string message in messages)
            {
                await Console.Error.WriteLineAsync("error: " + message);
            }

            host.Dispose();
            return 2;
        }

        using (host)
        {
            var runtime = host.Services.GetRequiredService<PoIPRuntime>();
            if (onStarted is not null)
            {
                await onStarted(host.Services, runtime);
            }

            await host.WaitForShutdownAsync(cancellationToken);
        }

        return 0;
    }

    /// <summary>
    /// Stops the host when standard input closes (a parent process that dies or is done takes its children with it).
    /// A line <c>status</c> on standard input is answered with one JSON line on standard output: the libp2p connections
    /// and streams open now, requests served and refused, payments claimed (<c>poip soak</c> reads it to check for leaks).
    /// </summary>
    internal sealed class StopOnStdinClose(IHostApplicationLifetime lifetime, IServiceProvider services) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            // A console read ignores cancellation once blocked: read on the side, stop waiting when the host stops.
            var endOfInput = Task.Run(async () =>
            {
                using var input = new StreamReader(Console.OpenStandardInput());
                while (await input.ReadLineAsync(CancellationToken.None) is { } line)
                {
                    if (line.Trim() == "status")
                    {
                        Console.Out.WriteLine(StatusLine(services.GetService<PoIPRuntime>()));
                        await Console.Out.FlushAsync(CancellationToken.None);
                    }
                }
            }, CancellationToken.None);
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (stoppingToken.Register(() => stopped.TrySetResult()))
            {
                if (await Task.WhenAny(endOfInput, stopped.Task) != endOfInput)
                {
                    return;
                }
            }

            lifetime.StopApplication();
        }

        /// <summary>The status line: <c>{"status":{"connections":N,"streams":N,"served":N,"refused":N,"payments_claimed":N}}</c>.</summary>
        internal static string StatusLine(PoIPRuntime? runtime)
        {
            var connections = runtime?.Host?.Connections ?? [];
            var status = new System.Text.Json.Nodes.JsonObject
            {
                ["connections"] = connections.Count(c => !c.IsClosed),
                ["streams"] = connections.Sum(c => c.StreamCount),
                ["served"] = runtime?.Served ?? 0,
                ["refused"] = runtime?.Refused ?? 0,
                ["payments_claimed"] = runtime?.PaymentsClaimed ?? 0,
            };
            return new System.Text.Json.Nodes.JsonObject { ["status"] = status }.ToJsonString();
        }
    }
}
