using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Parley.Bots.Logging;

/// <summary>
/// Keeps a copy of the bot's log in memory so that it can be uploaded as the bot's log artifact at the end
/// (a pod's or task's stdout is gone once it is deleted). Bounded: past <see cref="MaxBytes"/> the lines are
/// dropped and counted, and the upload says how many, so that a chatty bot cannot exhaust its memory.
/// </summary>
public sealed class BotLogBuffer : ILoggerProvider
{
    public const int MaxBytes = 8 * 1024 * 1024;

    private readonly StringBuilder _text = new();
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private long _dropped;

    public BotLogBuffer(TimeProvider time) => _time = time;

    public LogLevel MinimumLevel { get; set; } = LogLevel.Information;

    public ILogger CreateLogger(string categoryName) => new BufferLogger(this, categoryName);

    public byte[] Snapshot()
    {
        lock (_gate)
        {
            var text = _dropped == 0 ? _text.ToString() : _text + $"[{_dropped} line(s) dropped: log larger than {MaxBytes} bytes]\n";
            return Encoding.UTF8.GetBytes(text);
        }
    }

    public void Dispose()
    {
    }

    private void Append(string category, LogLevel level, string message, Exception? exception)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{_time.GetUtcNow():yyyy-MM-ddTHH:mm:ss.fffZ} {Level(level)} {category}: {message}\n");
        if (exception is not null)
        {
            line += exception + "\n";
        }

        lock (_gate)
        {
            if (_text.Length + line.Length > MaxBytes)
            {
                _dropped++;
                return;
            }

            _text.Append(line);
        }
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    private sealed class BufferLogger(BotLogBuffer owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.MinimumLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Append(category, logLevel, formatter(state, exception), exception);
            }
        }
    }
}
