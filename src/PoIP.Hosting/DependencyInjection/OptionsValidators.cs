using Microsoft.Extensions.Options;
using PoIP.Economics.Embedded;
using PoIP.Economics.Evm;
using PoIP.Inference.Llama;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>Checks <see cref="PoIPOptions"/> at start.</summary>
internal sealed class PoIPOptionsValidator : IValidateOptions<PoIPOptions>
{
    public ValidateOptionsResult Validate(string? name, PoIPOptions options) =>
        options.Key is null && string.IsNullOrWhiteSpace(options.KeyFile)
            ? ValidateOptionsResult.Fail("PoIP: an identity is required: set PoIPOptions.KeyFile (created when absent) or PoIPOptions.Key.")
            : ValidateOptionsResult.Success;
}

/// <summary>Checks <see cref="Libp2pServiceOptions"/> at start.</summary>
internal sealed class Libp2pServiceOptionsValidator : IValidateOptions<Libp2pServiceOptions>
{
    public ValidateOptionsResult Validate(string? name, Libp2pServiceOptions options)
    {
        var failures = new List<string>();
        foreach (string address in options.ListenAddresses)
        {
            if (!Multiaddr.TryParse(address, out var parsed) || !parsed!.ToString().Contains("/tcp/", StringComparison.Ordinal) || parsed.PeerId is not null)
            {
                failures.Add($"libp2p: cannot listen on '{address}': expected /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port> without /p2p.");
            }
        }

        if (options.MaxConnections is < 1 or > 65_536)
        {
            failures.Add($"libp2p: MaxConnections must be 1 to 65536 (got {options.MaxConnections}).");
        }

        if (options.DialTimeout <= TimeSpan.Zero)
        {
            failures.Add($"libp2p: DialTimeout must be positive (got {options.DialTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks <see cref="LlamaEngineOptions"/> at start: the engine's own rules, and that the model file exists.</summary>
internal sealed class LlamaEngineOptionsValidator : IValidateOptions<LlamaEngineOptions>
{
    public ValidateOptionsResult Validate(string? name, LlamaEngineOptions options)
    {
        string? problem = options.Validate();
        if (problem is not null)
        {
            return ValidateOptionsResult.Fail("llama engine: " + problem);
        }

        return File.Exists(options.ModelPath)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"llama engine: model file '{options.ModelPath}' does not exist.");
    }
}

/// <summary>Checks <see cref="KnownAnswerGateOptions"/> at start.</summary>
internal sealed class KnownAnswerGateOptionsValidator : IValidateOptions<KnownAnswerGateOptions>
{
    public ValidateOptionsResult Validate(string? name, KnownAnswerGateOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Policy))
        {
            failures.Add($"llama engine: unknown known-answer policy {options.Policy}.");
        }

        if (options.ModelPath is { } kat && !File.Exists(kat))
        {
            failures.Add($"llama engine: known-answer model '{kat}' does not exist (stories260K.gguf is expected).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks <see cref="PoIPNodeOptions"/> at start.</summary>
internal sealed class PoIPNodeOptionsValidator : IValidateOptions<PoIPNodeOptions>
{
    public ValidateOptionsResult Validate(string? name, PoIPNodeOptions options)
    {
        var failures = new List<string>();
        if (options.MaxPromptBytes is < 1 or > 1024 * 1024)
        {
            failures.Add($"node: MaxPromptBytes must be 1 to 1048576 (got {options.MaxPromptBytes}).");
        }

        if (options.MaxOutputTokens is < 1 or > 4096)
        {
            failures.Add($"node: MaxOutputTokens must be 1 to 4096 (got {options.MaxOutputTokens}).");
        }

        if (options.MaxExpiryHorizon <= TimeSpan.Zero)
        {
            failures.Add($"node: MaxExpiryHorizon must be positive (got {options.MaxExpiryHorizon}).");
        }

        if (options.MaxTranscripts is < 1 or > 1_000_000)
        {
            failures.Add($"node: MaxTranscripts must be 1 to 1000000 (got {options.MaxTranscripts}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks <see cref="PoIPValidatorOptions"/> at start.</summary>
internal sealed class PoIPValidatorOptionsValidator : IValidateOptions<PoIPValidatorOptions>
{
    public ValidateOptionsResult Validate(string? name, PoIPValidatorOptions options)
    {
        var failures = new List<string>();
        if (double.IsNaN(options.AuditProbability) || options.AuditProbability is < 0 or > 1)
        {
            failures.Add($"validator: AuditProbability must be in [0, 1] (got {options.AuditProbability}).");
        }

        if (options.MaxPromptBytes is < 1 or > 1024 * 1024)
        {
            failures.Add($"validator: MaxPromptBytes must be 1 to 1048576 (got {options.MaxPromptBytes}).");
        }

        if (options.TranscriptWindow < TimeSpan.Zero || options.TranscriptRetryInterval <= TimeSpan.Zero)
        {
            failures.Add($"validator: TranscriptWindow must not be negative and TranscriptRetryInterval must be positive (got {options.TranscriptWindow}, {options.TranscriptRetryInterval}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks <see cref="PoIPClientServiceOptions"/> at start.</summary>
internal sealed class PoIPClientServiceOptionsValidator(IServiceProvider services) : IValidateOptions<PoIPClientServiceOptions>
{
    public ValidateOptionsResult Validate(string? name, PoIPClientServiceOptions options)
    {
        var failures = new List<string>();
        if (options.Nodes.Count == 0 && services.GetService(typeof(DhtFactory)) is null)
        {
            failures.Add("client: at least one node multiaddr is required (e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...), or the DHT (AddDht with bootstrap peers) to find nodes by model.");
        }

        foreach (string address in options.Nodes.Concat(options.Validators))
        {
            if (!Multiaddr.TryParse(address, out var parsed) || parsed!.PeerId is null)
            {
                failures.Add($"client: '{address}' is not a multiaddr ending in /p2p/<peer id>.");
            }
        }

        if (options.AttemptTimeout <= TimeSpan.Zero)
        {
            failures.Add($"client: AttemptTimeout must be positive (got {options.AttemptTimeout}).");
        }

        if (options.HedgeQuantile is not (>= 0.5 and <= 1) || options.MinHedgeDelay < TimeSpan.Zero || options.MaxHedgeDelay < options.MinHedgeDelay || options.HedgeAfter < TimeSpan.Zero)
        {
            failures.Add($"client: hedging needs HedgeQuantile in [0.5, 1] (got {options.HedgeQuantile}), 0 <= MinHedgeDelay <= MaxHedgeDelay (got {options.MinHedgeDelay}, {options.MaxHedgeDelay}) and a non-negative HedgeAfter.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks <see cref="EmbeddedEconomicsOptions"/> at start (their own rules, as messages).</summary>
internal sealed class EmbeddedEconomicsOptionsValidator : IValidateOptions<EmbeddedEconomicsOptions>
{
    public ValidateOptionsResult Validate(string? name, EmbeddedEconomicsOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail("embedded economics: " + ex.Message);
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(options.DatabasePath));
        if (options.DatabasePath != ":memory:" && directory is not null && !Directory.Exists(directory))
        {
            return ValidateOptionsResult.Fail($"embedded economics: the ledger's folder '{directory}' does not exist.");
        }

        return ValidateOptionsResult.Success;
    }
}

/// <summary>Checks <see cref="EvmEconomicsOptions"/> at start.</summary>
internal sealed class EvmEconomicsOptionsValidator : IValidateOptions<EvmEconomicsOptions>
{
    public ValidateOptionsResult Validate(string? name, EvmEconomicsOptions options)
    {
        var failures = new List<string>();
        try
        {
            EvmEconomics.ToManagerOptions(options).Validate();
        }
        catch (Exception ex) when (ex is ArgumentException or UriFormatException)
        {
            failures.Add("evm economics: " + ex.Message);
        }

        try
        {
            _ = EvmAccounts.AddressOf(options.AccountPrivateKey);
        }
        catch (ArgumentException)
        {
            failures.Add("evm economics: AccountPrivateKey must be 32 bytes of hex.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks <see cref="PoIPDhtOptions"/> at start.</summary>
internal sealed class PoIPDhtOptionsValidator : IValidateOptions<PoIPDhtOptions>
{
    public ValidateOptionsResult Validate(string? name, PoIPDhtOptions options)
    {
        var failures = new List<string>();
        foreach (string address in options.Bootstrap)
        {
            if (!Multiaddr.TryParse(address, out var parsed) || parsed!.PeerId is null)
            {
                failures.Add($"dht: bootstrap address '{address}' must be a multiaddr ending in /p2p/<peer id>.");
            }
        }

        if (string.IsNullOrEmpty(options.ProtocolId) || options.ProtocolId[0] != '/' || options.ProtocolId.Length > 128 || options.ProtocolId.Any(char.IsWhiteSpace))
        {
            failures.Add($"dht: protocol id '{options.ProtocolId}' must start with '/' (e.g. /poip/kad/1.0.0) and hold no spaces.");
        }

        if (options.Quorum is < 0 or > 20)
        {
            failures.Add($"dht: Quorum must be 0 to 20 (got {options.Quorum}).");
        }

        if (options.CapabilityLifetime < TimeSpan.FromMinutes(1) || options.CapabilityLifetime > TimeSpan.FromHours(48))
        {
            failures.Add($"dht: CapabilityLifetime must be 1 min to 48 h (got {options.CapabilityLifetime}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
