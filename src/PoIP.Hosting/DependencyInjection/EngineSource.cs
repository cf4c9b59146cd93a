using PoIP.Core.Engine;
using PoIP.Inference.Verification;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// How the host gets its engine and how a validator re-executes on it (registered by
/// <c>AddLlamaEngine</c> or <c>AddEngine</c>; the last call wins).
/// </summary>
internal sealed class EngineSource(
    Func<IServiceProvider, CancellationToken, ValueTask<IInferenceEngine>> load,
    bool isLlama,
    Func<IServiceProvider, ReexecutionVerifierOptions> verifierOptions)
{
    public bool IsLlama { get; } = isLlama;

    public ValueTask<IInferenceEngine> LoadAsync(IServiceProvider services, CancellationToken cancellationToken) => load(services, cancellationToken);

    /// <summary>The verifier options a validator uses on this engine.</summary>
    public ReexecutionVerifierOptions VerifierOptions(IServiceProvider services) => verifierOptions(services);
}

/// <summary>Marks which roles a host plays.</summary>
internal sealed class RoleMarker(string role)
{
    public string Role { get; } = role;
}

/// <summary>Wraps the engine the node serves (registered by <c>DecorateServedEngine</c>; applied in registration order).</summary>
internal sealed class ServedEngineDecorator(Func<IInferenceEngine, IInferenceEngine> decorate)
{
    public IInferenceEngine Decorate(IInferenceEngine engine) => decorate(engine);
}
