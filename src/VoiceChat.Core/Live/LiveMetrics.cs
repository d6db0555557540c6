using System.Diagnostics.Metrics;

namespace VoiceChat.Live;

/// <summary>The <c>VoiceChat</c> meter's instruments for upstream connections.</summary>
internal static class LiveMetrics
{
    public static readonly Meter Meter = new("VoiceChat");

    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>(
        "voicechat.upstream.reconnects", description: "Upstream connections replaced during a session, by reason and outcome.");
}
