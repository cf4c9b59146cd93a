using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace PoIP.Node.Commands;

/// <summary>The HTTP side shared by <c>poip gateway run</c> and <c>poip demo --serve</c>: Kestrel on one address, logs on stderr, the ready line on stdout.</summary>
internal static class GatewayServer
{
    /// <summary>Parses <c>--http</c>: an IP literal and a port (<c>127.0.0.1:8080</c>, <c>[::1]:0</c>); null when invalid.</summary>
    public static IPEndPoint? ParseHttp(string text) =>
        IPEndPoint.TryParse(text, out var endpoint) && text.Contains(':', StringComparison.Ordinal) && endpoint.Port is >= 0 and <= 65535 && !text.EndsWith(']') ? endpoint : null;

    public static WebApplicationBuilder CreateBuilder(IPEndPoint http, bool verbose)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning);
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.ConfigureKestrel(k => k.Listen(http));
        return builder;
    }

    /// <summary>Prints <c>OpenAI-compatible API at http://HOST:PORT/v1</c> with the port actually bound.</summary>
    public static void Announce(WebApplication app)
    {
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        Console.WriteLine($"OpenAI-compatible API at {address}/v1");
    }
}
