namespace PoIP.Hosting.Client;

/// <summary>Options of <see cref="DhtNodeDirectory"/>.</summary>
public sealed class DhtNodeDirectoryOptions
{
    /// <summary>Most providers asked for per lookup (default 20).</summary>
    public int MaxNodes { get; init; } = 20;

    /// <summary>How long a lookup's result is reused for the same model (default 30 s; zero looks up on every request).</summary>
    public TimeSpan CacheDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>When true (default), providers without a valid capability record for the model are left out.</summary>
    public bool RequireCapability { get; init; } = true;

    /// <summary>Clock for the cache and for capability expiry.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
