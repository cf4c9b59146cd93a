using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using PoIP.Gateway.Chat;
using PoIP.Gateway.Requests;
using PoIP.Hosting.Client;

namespace PoIP.Gateway;

/// <summary>Registers and maps the OpenAI-compatible gateway (docs/gateway.md).</summary>
public static class PoIPGatewayExtensions
{
    /// <summary>
    /// Registers the gateway: options (validated at start), the bounded queue, the receipt store and
    /// OpenTelemetry metrics with the Prometheus exporter. The gateway sends through the
    /// <see cref="PoIPClient"/> that <paramref name="client"/> returns (default: the one in the container,
    /// e.g. from <c>AddPoIP(...).AddClient(...)</c>), resolved on the first request.
    /// </summary>
    public static IServiceCollection AddPoIPGateway(this IServiceCollection services, Action<PoIPGatewayOptions> configure, Func<IServiceProvider, PoIPClient>? client = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<PoIPGatewayOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PoIPGatewayOptions>, GatewayOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PoIPGatewayOptions>>().Value);
        services.AddSingleton(sp => new ClientAccessor(sp, client ?? (p => p.GetRequiredService<PoIPClient>())));
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<AdmissionGate>();
        services.AddSingleton<ReceiptStore>();
        services.AddSingleton<CompletionHandler>();
        services.AddSingleton<GatewayEndpoints>();
        services.AddHostedService<NodeDiagnoser>();
        services.AddHostedService<EscrowReclaimer>();
        services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(GatewayMetrics.MeterName).AddPrometheusExporter());
        return services;
    }

    /// <summary>
    /// Maps <c>/v1/models</c>, <c>/v1/chat/completions</c>, <c>/v1/completions</c>,
    /// <c>/v1/receipts/{id}</c>, <c>/v1/nodes</c>, <c>/health</c> and <c>/metrics</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapPoIPGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var handler = services.GetRequiredService<CompletionHandler>();
        var read = services.GetRequiredService<GatewayEndpoints>();
        var options = services.GetRequiredService<PoIPGatewayOptions>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PoIPGatewayExtensions));
        foreach (var model in options.Models.Where(m => !string.IsNullOrEmpty(m.ChatTemplate) && ChatTemplate.FromGguf(m.ChatTemplate).Format == PromptFormat.Plain))
        {
            Log.UnknownTemplate(logger, model.Name);
        }

        var v1 = endpoints.MapGroup("/v1");
        v1.AddEndpointFilter(async (context, next) =>
        {
            if (!read.Authorized(context.HttpContext))
            {
                await read.UnauthorizedAsync(context.HttpContext).ConfigureAwait(false);
                return Results.Empty;
            }

            return await next(context).ConfigureAwait(false);
        });
        v1.MapGet("/models", (HttpContext c) => read.ModelsAsync(c));
        v1.MapGet("/models/{id}", (HttpContext c, string id) => read.ModelAsync(c, id));
        v1.MapPost("/chat/completions", (HttpContext c) => handler.HandleAsync(c, CompletionKind.Chat));
        v1.MapPost("/completions", (HttpContext c) => handler.HandleAsync(c, CompletionKind.Text));
        v1.MapGet("/receipts/{id}", (HttpContext c, string id) => read.ReceiptAsync(c, id));
        v1.MapGet("/nodes", (HttpContext c) => read.NodesAsync(c));
        v1.MapFallback((HttpContext c) => read.NotFoundAsync(c));
        endpoints.MapGet("/health", (HttpContext c) => read.HealthAsync(c));
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        return endpoints;
    }

    private sealed class GatewayOptionsValidator : IValidateOptions<PoIPGatewayOptions>
    {
        public ValidateOptionsResult Validate(string? name, PoIPGatewayOptions options) =>
            options.Validate() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}
