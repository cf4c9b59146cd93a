using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PoIP.Hosting.Client;

namespace PoIP.Gateway.Tests;

/// <summary>The gateway's background diagnostics (<see cref="PoIPGatewayOptions.DiagnosticsInterval"/>) on the fixture's honest nodes, on a fake clock.</summary>
[Collection(GatewayNetworkGroup.Name)]
public sealed class DiagnoserTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DiagnosticsInterval_EachRound_DiagnosesEveryNodeAndNodesEndpointShowsIt()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var rounds = new RoundLog();
        await using var owned = await OwnedClient.StartAsync(fixture, new StaticNodeDirectory(fixture.Network.NodeAddresses), fund: true, time: time);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddProvider(rounds);
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddPoIPGateway(o => { o.Models.Add(fixture.Model); o.DiagnosticsInterval = TimeSpan.FromMinutes(5); }, _ => owned.Client);
        await using var app = builder.Build();
        app.MapPoIPGateway();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/") };

        string first = await rounds.Next.Task.WaitAsync(Bound); // the first round runs at start
        var firstAt = owned.Client.Diagnoses.Values.Max(d => d.At);
        rounds.Reset();
        time.Advance(TimeSpan.FromMinutes(5));                    // the next round is due
        string second = await rounds.Next.Task.WaitAsync(Bound);
        using var nodes = JsonDocument.Parse(await http.GetStringAsync("v1/nodes"));
        await app.StopAsync();

        Assert.Equal("Diagnosed 3 nodes with known-answer challenges: 3 passed, 0 failed, 0 unchecked", first);
        Assert.Equal(first, second);
        Assert.All(owned.Client.Diagnoses.Values, d => Assert.True(d.At > firstAt)); // diagnosed again in the second round
        Assert.All(nodes.RootElement.GetProperty("data").EnumerateArray(), n =>
        {
            Assert.True(n.GetProperty("known_answer_passed").GetBoolean());
            Assert.False(n.GetProperty("routed_around").GetBoolean());
            Assert.Equal(4, n.GetProperty("diagnosis").GetProperty("challenges").GetInt32());
        });
    }

    /// <summary>Completes <see cref="Next"/> with the message of each diagnostics round (event 8506).</summary>
    private sealed class RoundLog : ILoggerProvider, ILogger
    {
        public TaskCompletionSource<string> Next { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Reset() => Next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 8506)
            {
                Next.TrySetResult(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }
}
