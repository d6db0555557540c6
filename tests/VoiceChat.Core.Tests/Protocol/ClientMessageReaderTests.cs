using System.Text;
using VoiceChat.Protocol;

namespace VoiceChat.Tests.Protocol;

public sealed class ClientMessageReaderTests
{
    private static ClientMessage Read(string json) => ClientMessageReader.Read(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Start_session_with_every_field()
    {
        var message = Read("""
            {"metadata":{"app":"1.2.3","os":"android"},"type":"start_session","user_id":"u1","session_id":"s1",
             "resume_token":"tok","voice":"Kore","language":"de-DE","input_sample_rate":48000,"future_field":{"a":[1,2]}}
            """);

        message.IsError.Should().BeFalse(message.ErrorMessage);
        message.Kind.Should().Be(ClientMessageKind.StartSession);
        message.Start.Should().BeEquivalentTo(new StartSessionMessage(
            "u1", "s1", "tok", "Kore", "de-DE", 48000,
            new Dictionary<string, string> { ["app"] = "1.2.3", ["os"] = "android" }));
    }

    [Fact]
    public void Start_session_defaults_to_16_kHz_and_no_session_id()
    {
        var message = Read("""{"type":"start_session","user_id":"u1"}""");

        message.Start!.InputSampleRate.Should().Be(16000);
        message.Start.SessionId.Should().BeNull();
        message.Start.Metadata.Should().BeEmpty();
    }

    [Theory]
    [InlineData("""{"type":"start_session","user_id":"u1","input_sample_rate":44100}""", VoiceChatErrorCodes.UnsupportedSampleRate)]
    [InlineData("""{"type":"start_session","user_id":"u1","input_sample_rate":"16000"}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"type":"start_session","user_id":42}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"type":"start_session","user_id":""}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"type":"start_session","user_id":"u1","metadata":{"a":1}}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"type":"start_session","user_id":"u1","metadata":["a"]}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"type":"text"}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"type":"text","text":"   "}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"type":"audio"}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"type":"audio","data":17}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"type":"audio","data":"not base64!"}""", VoiceChatErrorCodes.InvalidAudio)]
    [InlineData("""{"type":"audio","data":"AAAA"}""", VoiceChatErrorCodes.InvalidAudio)]
    [InlineData("""{"type":"dance"}""", VoiceChatErrorCodes.UnknownType)]
    [InlineData("""{"type":7}""", VoiceChatErrorCodes.InvalidMessage)]
    [InlineData("""{"user_id":"u1"}""", VoiceChatErrorCodes.UnknownType)]
    [InlineData("{\"type\":\"ping\"", VoiceChatErrorCodes.InvalidJson)]
    [InlineData("""[1,2]""", VoiceChatErrorCodes.InvalidJson)]
    [InlineData("""{"type":"ping"} {"type":"ping"}""", VoiceChatErrorCodes.InvalidJson)]
    [InlineData("""hello""", VoiceChatErrorCodes.InvalidJson)]
    [InlineData("", VoiceChatErrorCodes.InvalidJson)]
    public void Bad_input_gets_its_documented_code(string json, string code)
    {
        var message = Read(json);

        message.IsError.Should().BeTrue();
        message.ErrorCode.Should().Be(code);
        message.ErrorMessage.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Identifiers_longer_than_the_limit_are_refused()
    {
        var message = Read($$"""{"type":"start_session","user_id":"{{new string('x', 129)}}"}""");

        message.ErrorCode.Should().Be(VoiceChatErrorCodes.InvalidMessage);
        message.ErrorMessage.Should().Contain("user_id");
    }

    [Theory]
    [InlineData("u1\\nINFO forged log line")]
    [InlineData("u1\\r")]
    [InlineData("two words")]
    [InlineData("quote\\\"")]
    [InlineData("{braces}")]
    [InlineData("caf\\u00e9")]
    [InlineData("\\u001b[31mred")]
    public void Identifiers_outside_the_safe_characters_are_refused(string jsonValue)
    {
        var user = Read($$"""{"type":"start_session","user_id":"{{jsonValue}}"}""");
        var session = Read($$"""{"type":"start_session","user_id":"u1","session_id":"{{jsonValue}}"}""");

        user.ErrorCode.Should().Be(VoiceChatErrorCodes.InvalidMessage);
        user.ErrorMessage.Should().Contain("user_id").And.NotContain(jsonValue);
        session.ErrorCode.Should().Be(VoiceChatErrorCodes.InvalidMessage);
        session.ErrorMessage.Should().Contain("session_id");
        Read($$"""{"type":"start_session","user_id":"u1","voice":"{{jsonValue}}"}""").ErrorCode.Should().Be(VoiceChatErrorCodes.InvalidMessage);
        Read($$"""{"type":"start_session","user_id":"u1","language":"{{jsonValue}}"}""").ErrorCode.Should().Be(VoiceChatErrorCodes.InvalidMessage);
    }

    [Theory]
    [InlineData("kX3t9PQzR2bWm8aYc1LdN0fGh4J2")] // a Firebase uid
    [InlineData("first.last+voice@example.co.uk")]
    [InlineData("google-oauth2|104234567890123456789")]
    [InlineData("3f2b8c1e-9d4a-4f6b-8e2a-1c0d5b7a9e3f")]
    [InlineData("tenant:user_42")]
    public void Common_user_ids_are_accepted(string userId)
    {
        var message = Read($$"""{"type":"start_session","user_id":"{{userId}}","session_id":"{{userId}}"}""");

        message.IsError.Should().BeFalse(message.ErrorMessage);
        message.Start!.UserId.Should().Be(userId);
        message.Start.SessionId.Should().Be(userId);
    }

    [Fact]
    public void Too_many_metadata_entries_are_refused()
    {
        var entries = string.Join(',', Enumerable.Range(0, 33).Select(i => $"\"k{i}\":\"v\""));

        Read("{\"type\":\"start_session\",\"user_id\":\"u\",\"metadata\":{" + entries + "}}").ErrorCode.Should().Be(VoiceChatErrorCodes.InvalidMessage);
    }

    [Fact]
    public void Audio_message_decodes_base64_into_a_pooled_buffer()
    {
        var pcm = new byte[] { 1, 0, 2, 0, 255, 127 };
        var message = Read($$"""{"type":"audio","data":"{{Convert.ToBase64String(pcm)}}"}""");

        message.Kind.Should().Be(ClientMessageKind.Audio);
        message.Audio.Memory.ToArray().Should().Equal(pcm);
        message.Audio.Return();
    }

    [Fact]
    public void Audio_base64_with_json_escapes_is_decoded()
    {
        var pcm = Enumerable.Range(0, 64).Select(i => (byte)(i * 4 + 3)).ToArray();
        var base64 = Convert.ToBase64String(pcm).Replace("/", "\\u002F", StringComparison.Ordinal);
        var message = Read($$"""{"type":"audio","data":"{{base64}}"}""");

        message.IsError.Should().BeFalse(message.ErrorMessage);
        message.Audio.Memory.ToArray().Should().Equal(pcm);
        message.Audio.Return();
    }

    [Theory]
    [InlineData("""{"type":"activity_start"}""", "ActivityStart")]
    [InlineData("""{"type":"activity_end"}""", "ActivityEnd")]
    [InlineData("""{"type":"audio_stream_end"}""", "AudioStreamEnd")]
    [InlineData("""{"type":"end_session"}""", "EndSession")]
    [InlineData("""{"type":"text","text":"hi"}""", "Text")]
    public void Simple_messages(string json, string kind) => Read(json).Kind.ToString().Should().Be(kind);

    [Fact]
    public void Ping_keeps_its_id()
    {
        Read("""{"id":"42","type":"ping"}""").Text.Should().Be("42");
        Read("""{"type":"ping"}""").Text.Should().BeNull();
    }

    [Theory]
    [InlineData("image/jpeg", new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 1, 2 })]
    [InlineData("image/png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0 })]
    public void Video_frame_with_the_signature_of_its_type(string mimeType, byte[] image)
    {
        var message = Read($$"""{"type":"video_frame","mime_type":"{{mimeType}}","data":"{{Convert.ToBase64String(image)}}"}""");

        message.IsError.Should().BeFalse(message.ErrorMessage);
        message.Kind.Should().Be(ClientMessageKind.VideoFrame);
        message.MimeType.Should().Be(mimeType);
        message.Image.Memory.ToArray().Should().Equal(image);
        message.Image.Return();
    }

    [Theory]
    [InlineData("image/png", "/9j/4A==", VoiceChatErrorCodes.InvalidVideoFrame)] // JPEG bytes
    [InlineData("image/jpeg", "iVBORw0KGgo=", VoiceChatErrorCodes.InvalidVideoFrame)] // PNG bytes
    [InlineData("image/webp", "/9j/4A==", VoiceChatErrorCodes.InvalidVideoFrame)]
    [InlineData("image/jpeg", "", VoiceChatErrorCodes.InvalidVideoFrame)]
    [InlineData("image/jpeg", "%%%", VoiceChatErrorCodes.InvalidVideoFrame)]
    public void Video_frame_that_is_not_what_it_says(string mimeType, string data, string code)
    {
        var message = Read($$"""{"type":"video_frame","mime_type":"{{mimeType}}","data":"{{data}}"}""");

        message.ErrorCode.Should().Be(code);
    }

    [Fact]
    public void Start_session_declares_video()
    {
        Read("""{"type":"start_session","user_id":"u1","video":true}""").Start!.Video.Should().BeTrue();
        Read("""{"type":"start_session","user_id":"u1"}""").Start!.Video.Should().BeFalse();
        Read("""{"type":"start_session","user_id":"u1","video":"yes"}""").ErrorCode.Should().Be(VoiceChatErrorCodes.InvalidMessage);
    }
}
