using System.ComponentModel;
using PoIP.Core.Errors;
using PoIP.Inference.Gguf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class ModelSynthSettings : CommandSettings
{
    [CommandOption("--dim <D>")]
    [Description("Embedding width. Default 64.")]
    public int Dimension { get; init; } = 64;

    [CommandOption("--layers <L>")]
    [Description("Transformer blocks. Default 2.")]
    public int Layers { get; init; } = 2;

    [CommandOption("--heads <H>")]
    [Description("Attention heads. Default 4.")]
    public int Heads { get; init; } = 4;

    [CommandOption("--kv-heads <K>")]
    [Description("Key/value heads (grouped-query attention). Default: equal to --heads.")]
    public int KvHeads { get; init; }

    [CommandOption("--ff <F>")]
    [Description("Feed-forward width. Default 128.")]
    public int FeedForward { get; init; } = 128;

    [CommandOption("--vocab <V>")]
    [Description("Vocabulary size (at least 260). Default 512.")]
    public int Vocabulary { get; init; } = 512;

    [CommandOption("--ctx <N>")]
    [Description("Trained context length written to the header. Default 512.")]
    public int ContextLength { get; init; } = 512;

    [CommandOption("--type <TYPE>")]
    [Description("f32, f16, q8_0 or q4_k_m (quantised types go through llama.cpp). Default f32.")]
    public string Type { get; init; } = "f32";

    [CommandOption("--seed <S>")]
    [Description("Seed of the weights. Default 1.")]
    public ulong Seed { get; init; } = 1;

    [CommandOption("--out <FILE>")]
    [Description("Output GGUF file.")]
    public string? Output { get; init; }

    public SynthesisOptions ToOptions() => new()
    {
        Dimension = Dimension,
        Layers = Layers,
        Heads = Heads,
        KvHeads = KvHeads,
        FeedForward = FeedForward,
        Vocabulary = Vocabulary,
        ContextLength = ContextLength,
        Seed = Seed,
        Type = Type.ToLowerInvariant() switch
        {
            "f32" => SynthesisType.F32,
            "f16" => SynthesisType.F16,
            "q8_0" => SynthesisType.Q8_0,
            "q4_k_m" => SynthesisType.Q4_K_M,
            _ => (SynthesisType)(-1),
        },
    };

    public override ValidationResult Validate()
    {
        if (string.IsNullOrEmpty(Output))
        {
            return ValidationResult.Error("--out is required.");
        }

        SynthesisOptions options = ToOptions();
        if (!Enum.IsDefined(options.Type))
        {
            return ValidationResult.Error("--type must be f32, f16, q8_0 or q4_k_m.");
        }

        string? problem = options.Validate();
        return problem is null ? ValidationResult.Success() : ValidationResult.Error(problem);
    }
}

/// <summary><c>poip model synth</c>: writes a llama-architecture GGUF model with seeded weights.</summary>
internal sealed class ModelSynthCommand : Command<ModelSynthSettings>
{
    public override int Execute(CommandContext context, ModelSynthSettings settings, CancellationToken cancellationToken)
    {
        string path = Path.GetFullPath(settings.Output!);
        try
        {
            LlamaModelSynthesizer.Write(settings.ToOptions(), path);
        }
        catch (EngineException ex)
        {
            Console.Error.WriteLine("error: " + ex.Message);
            return 2;
        }

        AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(path)}[/] ({new FileInfo(path).Length:N0} bytes)");
        return 0;
    }
}
