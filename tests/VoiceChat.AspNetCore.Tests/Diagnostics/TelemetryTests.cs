using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Diagnostics;

/// <summary>
/// The spans and metrics of a real voice turn, through OpenTelemetry's SDK and in-memory exporters,
/// as an app wires them (<c>AddSource("VoiceChat")</c>, <c>AddMeter("VoiceChat")</c>).
/// </summary>
/// <remarks>
/// The meter is one per process: this class runs alone so that the counts are this test's sessions.
/// </remarks>
[Collection(nameof(TelemetryTests))]
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryTests
{
    [Fact]
    public async Task A_voice_turn_has_a_session_span_with_its_children_and_metrics()
    {
        var spans = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        await using var host = await VoiceChatTestHost.StartAsync(services: (builder, _) =>
            builder.Services.AddOpenTelemetry()
                .WithTracing(t => t.AddSource("VoiceChat").AddAspNetCoreInstrumentation().AddInMemoryExporter(spans))
                .WithMetrics(m => m.AddMeter("VoiceChat").AddInMemoryExporter(metrics)));

        await using (var client = await host.ConnectAsync())
        {
            await client.StartAsync("u1", ""","session_id":"otel-1" """);
            await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.0, 300), Pcm.Silence(1.0)));
            await client.WaitForAsync("turn_complete");
            await client.SendJsonAsync("""{"type":"end_session"}""");
            await client.WaitForCloseAsync();
        }

        var meters = host.App.Services.GetRequiredService<MeterProvider>();
        await Eventually.TrueAsync(() =>
        {
            lock (spans)
            {
                return spans.Any(s => s.OperationName == "voicechat.session") && spans.Any(IsUpgrade);
            }
        });
        meters.ForceFlush().Should().BeTrue();

        Activity[] exported;
        lock (spans)
        {
            exported = [.. spans];
        }

        var session = exported.Single(s => s.OperationName == "voicechat.session");
        var upgrade = exported.Single(IsUpgrade);
        session.ParentSpanId.Should().Be(upgrade.SpanId, "the session runs under the WebSocket upgrade request");
        session.TraceId.Should().Be(upgrade.TraceId);
        session.GetTagItem("session.id").Should().Be("otel-1");
        session.GetTagItem("enduser.id").Should().BeNull("an anonymous client's user_id is not a verified user");
        session.GetTagItem("voicechat.user.verified").Should().Be(false);
        session.GetTagItem("voicechat.session.end_reason").Should().Be("client_ended");
        session.GetTagItem("gen_ai.usage.output_tokens").Should().BeOfType<long>().Which.Should().BePositive();
        session.Status.Should().Be(ActivityStatusCode.Unset);

        var connect = exported.Single(s => s.OperationName == "voicechat.model.connect");
        connect.ParentSpanId.Should().Be(session.SpanId);
        connect.TraceId.Should().Be(session.TraceId);
        connect.Kind.Should().Be(ActivityKind.Client);

        Sum(metrics, "voicechat.sessions.started").Should().Be(1);
        Sum(metrics, "voicechat.sessions.ended").Should().Be(1);
        Tags(Points(metrics, "voicechat.sessions.ended").Single())
            .Should().Contain(new KeyValuePair<string, object?>("voicechat.session.end_reason", "client_ended"));
        Sum(metrics, "voicechat.sessions.active").Should().Be(0);
        HistogramCount(metrics, "voicechat.session.duration").Should().Be(1);
        HistogramSum(metrics, "voicechat.session.duration").Should().BePositive();
        HistogramCount(metrics, "voicechat.turn.first_audio.latency").Should().Be(1, "one reply, one first audio");
        HistogramSum(metrics, "voicechat.turn.first_audio.latency").Should().BePositive();
        HistogramCount(metrics, "voicechat.relay.frame.latency").Should().BePositive();
        Sum(metrics, "voicechat.relay.bytes", "to_model").Should().Be(2 * 32000, "2 s of 16 kHz audio went up");
        Sum(metrics, "voicechat.relay.bytes", "to_client").Should().BePositive();
        HistogramSum(metrics, "gen_ai.client.token.usage").Should().BePositive();
    }

    private static bool IsUpgrade(Activity activity) =>
        activity.Source.Name == "Microsoft.AspNetCore" && activity.GetTagItem("url.path") as string == "/voice";

    private static List<KeyValuePair<string, object?>> Tags(MetricPoint point)
    {
        var tags = new List<KeyValuePair<string, object?>>();
        foreach (var tag in point.Tags)
        {
            tags.Add(tag);
        }

        return tags;
    }

    private static MetricPoint[] Points(List<MetricSnapshot> metrics, string name)
    {
        lock (metrics)
        {
            // Cumulative: the last export holds the totals.
            return metrics.Last(m => m.Name == name).MetricPoints.ToArray();
        }
    }

    private static long Sum(List<MetricSnapshot> metrics, string name, string? direction = null) =>
        Points(metrics, name)
            .Where(p => direction is null || Tags(p).Contains(new KeyValuePair<string, object?>("voicechat.direction", direction)))
            .Sum(p => p.GetSumLong());

    private static long HistogramCount(List<MetricSnapshot> metrics, string name) => Points(metrics, name).Sum(p => p.GetHistogramCount());

    private static double HistogramSum(List<MetricSnapshot> metrics, string name) => Points(metrics, name).Sum(p => p.GetHistogramSum());
}
