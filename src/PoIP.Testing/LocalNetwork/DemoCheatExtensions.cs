using PoIP.Hosting.DependencyInjection;

namespace PoIP.Testing.LocalNetwork;

/// <summary>Demonstration cheats for hosts built with <c>services.AddPoIP(...)</c>.</summary>
public static class DemoCheatExtensions
{
    /// <summary>
    /// Demonstrations only (<c>poip demo --separate-processes</c>): this node lies in the given way, so
    /// validators can be seen catching it. Never use on a real network: it will be slashed.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="kind">How the node cheats (<see cref="CheatKind.None"/>: it does not).</param>
    /// <returns>The builder.</returns>
    public static PoIPBuilder AddDemoCheat(this PoIPBuilder builder, CheatKind kind)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return kind == CheatKind.None ? builder : builder.DecorateServedEngine(engine => new CheatingEngine(engine, kind));
    }
}
