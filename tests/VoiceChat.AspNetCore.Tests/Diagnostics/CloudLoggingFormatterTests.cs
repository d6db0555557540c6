using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace VoiceChat.Tests.Diagnostics;

/// <summary>The <c>voicechat-cloud</c> console formatter writes lines Cloud Logging reads.</summary>
public sealed class CloudLoggingFormatterTests
{
    [Fact]
    public void An_entry_is_one_json_line_with_severity_trace_session_and_exception()
    {
        var formatter = CreateFormatter();
        var scopes = new LoggerExternalScopeProvider();
        using var activity = new Activity("test").SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        using var scope = scopes.Push(new[] { new KeyValuePair<string, object?>("SessionId", "s-42") });
        var state = new List<KeyValuePair<string, object?>>
        {
            new("Attempt", 3),
            new("ErrorCode", "upstream_unavailable"),
            new("{OriginalFormat}", "Reconnect {Attempt} failed: {ErrorCode}"),
        };
        var exception = Thrown(new InvalidOperationException("the model went away"));

        var line = Write(formatter, LogLevel.Warning, state, exception, scopes);

        line.Should().EndWith(Environment.NewLine);
        line.TrimEnd().Should().NotContain("\n", "one entry is one line");
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        root.GetProperty("severity").GetString().Should().Be("WARNING");
        root.GetProperty("message").GetString().Should().Be("Reconnect 3 failed: upstream_unavailable");
        root.GetProperty("logging.googleapis.com/trace").GetString().Should().Be($"projects/proj-1/traces/{activity.TraceId.ToHexString()}");
        root.GetProperty("logging.googleapis.com/spanId").GetString().Should().Be(activity.SpanId.ToHexString());
        root.GetProperty("logging.googleapis.com/trace_sampled").GetBoolean().Should().BeTrue();
        root.GetProperty("sessionId").GetString().Should().Be("s-42");
        root.GetProperty("stack_trace").GetString().Should().Contain("InvalidOperationException: the model went away").And.Contain(nameof(Thrown));
        root.GetProperty("category").GetString().Should().Be("VoiceChat.Test");
        root.GetProperty("eventId").GetInt32().Should().Be(7);
        root.GetProperty("values").GetProperty("Attempt").GetInt32().Should().Be(3);
        root.GetProperty("values").TryGetProperty("{OriginalFormat}", out _).Should().BeFalse();
    }

    [Theory]
    [InlineData(LogLevel.Trace, "DEBUG")]
    [InlineData(LogLevel.Debug, "DEBUG")]
    [InlineData(LogLevel.Information, "INFO")]
    [InlineData(LogLevel.Error, "ERROR")]
    [InlineData(LogLevel.Critical, "CRITICAL")]
    public void Levels_are_cloud_logging_severities(LogLevel level, string severity)
    {
        var line = Write(CreateFormatter(), level, [new("{OriginalFormat}", "plain")], null, null);

        using var json = JsonDocument.Parse(line);
        json.RootElement.GetProperty("severity").GetString().Should().Be(severity);
        json.RootElement.TryGetProperty("logging.googleapis.com/spanId", out _).Should().BeFalse("no activity, no span");
        json.RootElement.TryGetProperty("sessionId", out _).Should().BeFalse();
    }

    private static ConsoleFormatter CreateFormatter()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["VoiceChat:Gemini:Project"] = "proj-1" })
            .Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(logging => logging.AddVoiceChatCloudLogging())
            .BuildServiceProvider();
        return services.GetServices<ConsoleFormatter>().Single(f => f.Name == VoiceChatLoggingBuilderExtensions.CloudLoggingFormatterName);
    }

    private static string Write(ConsoleFormatter formatter, LogLevel level, List<KeyValuePair<string, object?>> state, Exception? exception, IExternalScopeProvider? scopes)
    {
        var entry = new LogEntry<List<KeyValuePair<string, object?>>>(level, "VoiceChat.Test", new EventId(7, "Test"), state, exception, static (s, _) =>
        {
            var format = (string)s.Single(p => p.Key == "{OriginalFormat}").Value!;
            foreach (var (key, value) in s)
            {
                format = format.Replace("{" + key + "}", Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            }

            return format;
        });
        using var writer = new StringWriter();
        formatter.Write(entry, scopes, writer);
        return writer.ToString();
    }

    private static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }
}
