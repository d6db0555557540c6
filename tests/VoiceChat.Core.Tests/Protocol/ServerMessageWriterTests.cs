using System.Text.Json;
using VoiceChat.Protocol;

namespace VoiceChat.Tests.Protocol;

public sealed class ServerMessageWriterTests
{
    private static JsonElement Parse(ReadOnlyMemory<byte> utf8) => JsonDocument.Parse(utf8).RootElement.Clone();

    [Fact]
    public void Session_started_has_every_documented_field()
    {
        using var writer = new ServerMessageWriter();

        var json = Parse(writer.SessionStarted("s1", "tok", 16000, SessionResume.Fresh(null)));

        json.GetProperty("type").GetString().Should().Be("session_started");
        json.GetProperty("session_id").GetString().Should().Be("s1");
        json.GetProperty("resume_token").GetString().Should().Be("tok");
        json.GetProperty("input_sample_rate").GetInt32().Should().Be(16000);
        json.GetProperty("output_sample_rate").GetInt32().Should().Be(24000);
        json.GetProperty("resumed").GetBoolean().Should().BeFalse();
        json.TryGetProperty("resume_failed", out _).Should().BeFalse();
        json.TryGetProperty("received", out _).Should().BeFalse();
    }

    [Fact]
    public void A_resumed_session_says_what_arrived_and_where_the_replay_starts()
    {
        using var writer = new ServerMessageWriter();

        var json = Parse(writer.SessionStarted("s1", "tok2", 16000, new SessionResume(true, Received: 42, ReplayFrom: 7, null)));

        json.GetProperty("resumed").GetBoolean().Should().BeTrue();
        json.GetProperty("received").GetInt64().Should().Be(42);
        json.GetProperty("replay_from").GetInt64().Should().Be(7);
    }

    [Fact]
    public void A_token_that_did_not_resume_says_why()
    {
        using var writer = new ServerMessageWriter();

        var json = Parse(writer.SessionStarted("s1", "tok", 16000, SessionResume.Fresh("token_not_found")));

        json.GetProperty("resumed").GetBoolean().Should().BeFalse();
        json.GetProperty("resume_failed").GetString().Should().Be("token_not_found");
    }

    [Fact]
    public void Ack_carries_the_count()
    {
        using var writer = new ServerMessageWriter();

        var json = Parse(writer.Ack(1234));

        json.GetProperty("type").GetString().Should().Be("ack");
        json.GetProperty("received").GetInt64().Should().Be(1234);
    }

    [Fact]
    public void Transcripts_keep_non_ascii_text_readable()
    {
        using var writer = new ServerMessageWriter();

        var bytes = writer.Transcript(user: false, "Grüße, \"Welt\" 👋", final: true);
        var json = Parse(bytes);

        json.GetProperty("type").GetString().Should().Be("transcript");
        json.GetProperty("role").GetString().Should().Be("assistant");
        json.GetProperty("text").GetString().Should().Be("Grüße, \"Welt\" 👋");
        json.GetProperty("final").GetBoolean().Should().BeTrue();
        System.Text.Encoding.UTF8.GetString(bytes.Span).Should().Contain("Grüße");
    }

    [Fact]
    public void The_writer_is_reused_message_after_message()
    {
        using var writer = new ServerMessageWriter();

        Parse(writer.Error("invalid_json", "bad", fatal: false)).GetProperty("fatal").GetBoolean().Should().BeFalse();
        var pong = Parse(writer.Pong("7"));

        pong.GetProperty("type").GetString().Should().Be("pong");
        pong.GetProperty("id").GetString().Should().Be("7");
        pong.TryGetProperty("code", out _).Should().BeFalse();
        Parse(writer.Pong(null)).TryGetProperty("id", out _).Should().BeFalse();
    }

    [Fact]
    public void Fixed_messages()
    {
        using var writer = new ServerMessageWriter();

        Parse(ServerMessageWriter.Interrupted).GetProperty("type").GetString().Should().Be("interrupted");
        Parse(ServerMessageWriter.TurnComplete).GetProperty("type").GetString().Should().Be("turn_complete");
        Parse(writer.GoingAway("server_shutting_down")).GetProperty("reason").GetString().Should().Be("server_shutting_down");
        Parse(writer.SessionEnded("client_ended")).GetProperty("reason").GetString().Should().Be("client_ended");
        var tool = Parse(writer.ToolCall("get_weather", "started"));
        tool.GetProperty("name").GetString().Should().Be("get_weather");
        tool.GetProperty("status").GetString().Should().Be("started");
    }

    [Fact]
    public void Every_fatal_error_code_has_its_documented_close_code()
    {
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.FrameTooLarge).Should().Be(1009);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.StartTimeout).Should().Be(4001);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.IdleTimeout).Should().Be(4002);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.MaxDuration).Should().Be(4003);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.ServerBusy).Should().Be(4004);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.UpstreamUnavailable).Should().Be(4005);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.UpstreamAuthFailed).Should().Be(4006);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.ModelNotFound).Should().Be(4007);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.UpstreamInvalidArgument).Should().Be(4008);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.LocationNotSupported).Should().Be(4009);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.QuotaExhausted).Should().Be(4010);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.UpstreamInternal).Should().Be(4011);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.UpstreamTimeout).Should().Be(4012);
        VoiceChatCloseCodes.ForError(VoiceChatErrorCodes.InternalError).Should().Be(1011);
    }
}
