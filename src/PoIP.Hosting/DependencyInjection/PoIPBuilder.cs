using Microsoft.Extensions.DependencyInjection;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>Composes a PoIP host's parts; returned by <c>services.AddPoIP(...)</c>.</summary>
public sealed class PoIPBuilder
{
    internal PoIPBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }
}
