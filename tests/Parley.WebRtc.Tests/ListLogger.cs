using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Parley.WebRtc.Tests;

/// <summary>Collects log events so tests can check what the stack reports.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, int EventId, string Message)> Events { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Events.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
}
