using PoIP.Core.Engine;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>How the host gets its engine (registered by <c>AddLlamaEngine</c> or <c>AddEngine</c>; the last call wins).</summary>
internal sealed class EngineSource(Func<IServiceProvider, CancellationToken, ValueTask<IInferenceEngine>> load, bool isLlama)
{
    public bool IsLlama { get; } = isLlama;

    public ValueTask<IInferenceEngine> LoadAsync(IServiceProvider services, CancellationToken cancellationToken) => load(services, cancellationToken);
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
