using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Logging;

/// <summary>
/// Console logs as Google Cloud Logging reads them from a container's standard output: one JSON
/// object per line with <c>severity</c>, <c>message</c>, the trace and span of the current
/// <see cref="Activity"/> (so Cloud Logging shows a request's or a session's entries under its trace),
/// <c>sessionId</c> from the entry or its scopes, the rest of the entry's values, and the exception
/// as <c>stack_trace</c> (which Error Reporting groups).
/// </summary>
internal sealed class CloudLoggingConsoleFormatter : ConsoleFormatter, IDisposable
{
    private const string OriginalFormat = "{OriginalFormat}";
    private const string SessionIdKey = "SessionId";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IDisposable? _reload;
    private readonly TimeProvider _time;
    private CloudLoggingFormatterOptions _options;

    public CloudLoggingConsoleFormatter(IOptionsMonitor<CloudLoggingFormatterOptions> options, TimeProvider? time = null)
        : base(VoiceChatLoggingBuilderExtensions.CloudLoggingFormatterName)
    {
        _options = options.CurrentValue;
        _reload = options.OnChange(o => _options = o);
        _time = time ?? TimeProvider.System;
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("severity", Severity(logEntry.LogLevel));
            json.WriteString("message", message);
            json.WriteString("time", _time.GetUtcNow());
            if (logEntry.Exception is { } exception)
            {
                json.WriteString("stack_trace", exception.ToString());
            }

            if (Activity.Current is { } activity && activity.IdFormat == ActivityIdFormat.W3C)
            {
                if (_options.ProjectId is { Length: > 0 } project)
                {
                    json.WriteString("logging.googleapis.com/trace", $"projects/{project}/traces/{activity.TraceId.ToHexString()}");
                }

                json.WriteString("logging.googleapis.com/spanId", activity.SpanId.ToHexString());
                json.WriteBoolean("logging.googleapis.com/trace_sampled", activity.Recorded);
            }

            var sessionId = Find(logEntry.State as IReadOnlyList<KeyValuePair<string, object?>>) ?? FindInScopes(scopeProvider);
            if (sessionId is not null)
            {
                json.WriteString("sessionId", sessionId);
            }

            json.WriteString("category", logEntry.Category);
            if (logEntry.EventId.Id != 0 || logEntry.EventId.Name is not null)
            {
                json.WriteNumber("eventId", logEntry.EventId.Id);
                if (logEntry.EventId.Name is { } name)
                {
                    json.WriteString("eventName", name);
                }
            }

            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> values && values.Count > 1)
            {
                json.WriteStartObject("values");
                WriteValues(json, values);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write(Environment.NewLine);
    }

    public void Dispose() => _reload?.Dispose();

    /// <summary>Cloud Logging's <c>LogSeverity</c> names.</summary>
    internal static string Severity(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "CRITICAL",
        _ => "DEFAULT",
    };

    private static void WriteValues(Utf8JsonWriter json, IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            var (key, value) = values[i];
            if (key == OriginalFormat)
            {
                continue;
            }

            switch (value)
            {
                case null:
                    json.WriteNull(key);
                    break;
                case bool b:
                    json.WriteBoolean(key, b);
                    break;
                case int n:
                    json.WriteNumber(key, n);
                    break;
                case long n:
                    json.WriteNumber(key, n);
                    break;
                case double n when double.IsFinite(n):
                    json.WriteNumber(key, n);
                    break;
                default:
                    json.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }
        }
    }

    private static string? Find(IReadOnlyList<KeyValuePair<string, object?>>? values)
    {
        if (values is null)
        {
            return null;
        }

        for (var i = 0; i < values.Count; i++)
        {
            if (values[i].Key == SessionIdKey && values[i].Value is { } id)
            {
                return id.ToString();
            }
        }

        return null;
    }

    private static string? FindInScopes(IExternalScopeProvider? scopes)
    {
        var found = new StrongBox<string?>();
        scopes?.ForEachScope(
            static (scope, state) =>
            {
                // The innermost scope that names a session wins.
                if (Find(scope as IReadOnlyList<KeyValuePair<string, object?>>) is { } id)
                {
                    state.Value = id;
                }
            },
            found);
        return found.Value;
    }
}

/// <summary>Options of <see cref="CloudLoggingConsoleFormatter"/>.</summary>
internal sealed class CloudLoggingFormatterOptions
{
    /// <summary>The Google Cloud project the traces belong to (<c>projects/PROJECT/traces/TRACE</c>).</summary>
    public string? ProjectId { get; set; }
}
