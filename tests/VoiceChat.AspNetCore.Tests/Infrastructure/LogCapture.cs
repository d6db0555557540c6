using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VoiceChat.Tests.Infrastructure;

/// <summary>Keeps every log entry of a host at every level: its category, formatted message, state values and exception.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();

    public IReadOnlyCollection<string> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            capture._entries.Enqueue($"{category} scope: {state} | {Values(state)}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture._entries.Enqueue($"{logLevel} {category} [{eventId}] {formatter(state, exception)} | {Values(state)} | {exception}");

        // Every structured value, so that a secret passed as a value shows even when the message leaves it out.
        private static string Values(object? state) => state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}"))
            : string.Empty;
    }
}
