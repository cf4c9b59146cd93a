using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Inference.Diagnostics;
using PoIP.Inference.Llama;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// Decides whether a node may serve, by the known-answer test (KAT, stories260K vectors):
/// <list type="bullet">
/// <item>llama.cpp engine: the KAT runs on a dedicated stories260K engine loaded with the served
/// engine's numeric settings (CPU variant, flash attention, KV type, GPU layers) and the vectors'
/// context and micro-batch; the stories260K file is the served model when it is stories260K, else
/// <see cref="KnownAnswerGateOptions.ModelPath"/>.</item>
/// <item>any other engine: the KAT runs on the engine itself when it serves stories260K.</item>
/// <item>when it cannot run: <see cref="KnownAnswerPolicy.Required"/> refuses, <see cref="KnownAnswerPolicy.IfAvailable"/> serves and says so.</item>
/// </list>
/// A KAT that runs and fails always refuses.
/// </summary>
internal static class KnownAnswerGate
{
    public static async Task<KnownAnswerGateReport> DecideAsync(IInferenceEngine engine, LlamaEngineOptions? llama, string? storiesModelPath, KnownAnswerPolicy policy, CancellationToken cancellationToken)
    {
        if (policy == KnownAnswerPolicy.Skip)
        {
            return new KnownAnswerGateReport(true, false, "not run: skipped by configuration (KnownAnswerGateOptions.Policy = Skip).");
        }

        bool servesStories = string.Equals(engine.Model.Id.ToString(), KnownAnswerTest.ModelSha256, StringComparison.OrdinalIgnoreCase);
        KnownAnswerResult result;
        try
        {
            if (llama is not null)
            {
                string? stories = servesStories ? llama.ModelPath : storiesModelPath;
                if (stories is null)
                {
                    return CannotRun(policy, $"the served model is not stories260K and no stories260K file is configured (KnownAnswerGateOptions.ModelPath)");
                }

                var options = KnownAnswerTest.EngineOptions(stories, llama.Threads) with
                {
                    CpuVariant = llama.CpuVariant,
                    FlashAttention = llama.FlashAttention,
                    KvCacheType = llama.KvCacheType,
                    GpuLayers = llama.GpuLayers,
                };
                var kat = await LlamaInferenceEngine.LoadAsync(options, cancellationToken).ConfigureAwait(false);
                await using (kat.ConfigureAwait(false))
                {
                    result = await KnownAnswerTest.RunAsync(kat, cancellationToken).ConfigureAwait(false);
                }
            }
            else if (servesStories)
            {
                result = await KnownAnswerTest.RunAsync(engine, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                return CannotRun(policy, $"the engine ({engine.Identity.Engine}) serves model {engine.Model.Id}, not stories260K, and is not the llama.cpp engine");
            }
        }
        catch (EngineException ex)
        {
            return new KnownAnswerGateReport(false, true, $"FAILED: the known-answer engine could not run: [{ex.Code}] {ex.Message}");
        }

        if (result.Passed)
        {
            return new KnownAnswerGateReport(true, true, result.Summary);
        }

        string failures = string.Join("; ", result.Cases.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}"));
        return new KnownAnswerGateReport(false, true, $"{result.Summary} ({failures})");
    }

    private static KnownAnswerGateReport CannotRun(KnownAnswerPolicy policy, string why) =>
        policy == KnownAnswerPolicy.Required
            ? new KnownAnswerGateReport(false, false, $"cannot run the known-answer test: {why}; Policy = Required refuses to serve.")
            : new KnownAnswerGateReport(true, false, $"not run: {why}. Serving unchecked (Policy = IfAvailable).");
}
