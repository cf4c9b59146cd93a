using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PoIP.Economics.IntegrationTests;

/// <summary>Captures log lines; <see cref="WaitFor"/> completes when one containing a text arrives.</summary>
internal sealed class LineCapture : ILoggerProvider
{
    private readonly ConcurrentBag<(string Text, TaskCompletionSource Done)> _waits = [];

    public ConcurrentQueue<string> Lines { get; } = new();

    public Task WaitFor(string text)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waits.Add((text, done));
        return done.Task;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        Lines.Enqueue(line);
        foreach (var (text, done) in _waits)
        {
            if (line.Contains(text, StringComparison.Ordinal))
            {
                done.TrySetResult();
            }
        }
    }

    private sealed class Logger(LineCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => owner.Add(formatter(state, exception));
    }
}
